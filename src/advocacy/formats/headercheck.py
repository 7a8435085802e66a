"""What a header value must not hold, also once its RFC 2047 encoded words are decoded.

A name such as `=?utf-8?q?Office=0D=0ABcc:_evil=40evil.example?=` holds no line
break as written, but every mail program decodes it into one: a header built from it
would carry a second, injected header to whoever parses it next. So a value is
checked twice, as written and as decoded, for line breaks, control characters and
bidirectional controls; none of them belongs in a header."""

from __future__ import annotations

import re

from ..campaign.recipients import char_problem

_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decoded(value: str) -> str:
    """`value` with its encoded words decoded as a mail program would; a word that
    cannot be decoded stays as written."""
    if not _ENCODED_WORD.search(value):
        return value
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def header_problem(value: str) -> str | None:
    """Why `value` cannot stand in a header, as written or decoded; None when it can."""
    for text, how in ((value, ""), (decoded(value), " once its encoded words are decoded")):
        if "\r" in text or "\n" in text:
            return f"contains a line break{how}; an email header must be one line"
        problem = char_problem(text.replace("\t", " "))
        if problem:
            return problem.replace("; remove", f"{how}; remove", 1)
    return None


# Headers that add recipients or replace the sender: a letter carries none of them.
RECIPIENT_HEADERS = ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-From", "Sender")


def injected_headers(data: bytes) -> str | None:
    """Why a message's own header block carries more than its one letter: a header
    that adds a recipient or another sender, or a From or To whose decoded name holds
    a line break. None when it carries nothing of the kind."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    headers = BytesHeaderParser(policy=default).parsebytes(data)
    for name in RECIPIENT_HEADERS:
        if name in headers:
            return f"the message has a {name} header, which a letter never has"
    for name in ("From", "To"):
        try:
            values = headers.get_all(name) or []
        except ValueError:  # "address parts cannot contain CR or LF"
            return f"the message's {name} header has a name with a line break"
        for header in values:
            for address in getattr(header, "addresses", ()):
                if header_problem(str(address.display_name)):
                    return f"the message's {name} header has a name with a line break"
    return None
