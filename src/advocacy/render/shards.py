"""`render --shard K/N`: a stable share of the letters, the same on every machine."""

from __future__ import annotations

import hashlib

from ..errors import BadInput


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise BadInput(f"--shard {text!r}: write K/N, e.g. 2/4 for the second of four") from None
    if not 1 <= k <= n:
        raise BadInput(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def in_shard(recipient_id: str, k: int, n: int) -> bool:
    """Stable across machines and runs: a hash of the id, not Python's hash()."""
    digest = hashlib.sha256(recipient_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1
