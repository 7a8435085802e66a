"""A letter's short reference, printed on it and carried in its subject.

One place builds it, so that the letter, the print set's checklist and the
delivery log all match a postal or email answer to the same letter.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def letter_reference(prefix: str, recipient_id: str) -> str:
    """`BY23-de-mfa` for prefix "BY23"; the recipient id alone without a prefix."""
    prefix = _UNSAFE.sub("-", prefix).strip("-")
    return f"{prefix}-{recipient_id}" if prefix else recipient_id
