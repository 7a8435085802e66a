"""The headers of message files, read without the body: the header block, a file's
head, and the few headers `send` shows for thousands of messages."""

from __future__ import annotations

from pathlib import Path


def header_block(data: bytes) -> bytes:
    """The header lines of a message, up to the blank line before its body."""
    ends = [i + 1 for i in (data.find(b"\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return data[: min(ends)] if ends else data


def read_head(path: Path) -> bytes:
    """The header lines of a message file, without reading its body (which may be large)."""
    head = b""
    with path.open("rb") as handle:
        while b"\n\r\n" not in head and b"\n\n" not in head:
            block = handle.read(8192)
            if not block:
                break
            head += block
    return header_block(head)


_SHOWN = {"from": "From", "to": "To", "subject": "Subject", "message-id": "Message-ID"}


def shown_headers(head: bytes) -> dict[str, str]:
    """The headers `send` shows, from a message's header block (`read_head`), unfolded,
    encoded words (RFC 2047) decoded; the first of each, as the email package reads
    them. Thousands of files: the four lines are picked out by hand, at a tenth of the
    time of the package's parser (test_envelope.py compares the two)."""
    from email.header import decode_header, make_header

    raw: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in head.decode("ascii", "surrogateescape").splitlines():
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line)
            continue
        name, colon, value = line.partition(":")
        key = _SHOWN.get(name.lower()) if colon else None
        current = None
        if key is not None and key not in raw:
            current = raw[key] = [value.lstrip(" \t")]
    found = {}
    for key in _SHOWN.values():
        text = "".join(raw.get(key, ()))
        found[key] = (str(make_header(decode_header(text))) if "=?" in text else text).strip()
    return found
