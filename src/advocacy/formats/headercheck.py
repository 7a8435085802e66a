"""What a header value must not hold, also once its RFC 2047 encoded words are decoded.

A name such as `=?utf-8?q?Office=0D=0ABcc:_evil=40evil.example?=` holds no line
break as written, but every mail program decodes it into one: a header built from it
would carry a second, injected header to whoever parses it next. So a value is
checked twice, as written and as decoded, for line breaks, control characters and
bidirectional controls; none of them belongs in a header."""

from __future__ import annotations

import functools

from ..campaign.recipients import char_problem, decoded_words
from ..errors import MailError


def header_problem(value: str) -> str | None:
    """Why `value` cannot stand in a header, as written or decoded; None when it can."""
    for text, how in ((value, ""), (decoded_words(value), " once its encoded words are decoded")):
        if "\r" in text or "\n" in text:
            return f"contains a line break{how}; an email header must be one line"
        problem = char_problem(text.replace("\t", " "))
        if problem:
            return problem.replace("; remove", f"{how}; remove", 1)
    return None


# Headers that add recipients or replace the sender: a letter carries none of them.
RECIPIENT_HEADERS = ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-From", "Sender")


def addressed_to(head: bytes) -> str:
    """The one address a message's own header block (`head`) sends it to, read by the
    email package's strict parser, once the block is known to carry no more than its
    letter: no header that adds a recipient or another sender, one From and one To,
    no decoded name with a line break. A MailError says what is wrong.

    Checked before every message: the block is only split into lines, the one From
    of a run is parsed once (a small cache), and the To once."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    # compat32 splits the lines as the default policy would (the same raw values) but
    # parses no header on the way (the default policy parses Content-Type at close).
    found: dict[str, list[str]] = {"from": [], "to": []}
    for name, value in BytesHeaderParser(policy=compat32).parsebytes(head).raw_items():
        key = name.lower()
        if key in _ADDING:
            raise MailError(f"the message has a {name} header, which a letter never has")
        if key in found:
            found[key].append(value)
    for key, values in found.items():
        if len(values) != 1:
            raise MailError(f"the message has {len(values)} {key.title()} headers, not one")
    one_address("From", found["from"][0])
    return one_address("To", found["to"][0])


_ADDING = {name.lower() for name in RECIPIENT_HEADERS}


@functools.lru_cache(maxsize=16)
def one_address(name: str, value: str) -> str:
    """The addr-spec of header `name`'s one address, as a strict parser reads `value`."""
    from email.policy import default

    try:
        header = default.header_fetch_parse(name, value)
    except ValueError:  # "address parts cannot contain CR or LF"
        raise MailError(f"the message's {name} header has a name with a line break") from None
    addresses = tuple(getattr(header, "addresses", ()))
    if len(addresses) != 1 or getattr(header, "defects", None):
        raise MailError(f"the message's {name} header {str(header)[:80]!r} is not one address")
    if header_problem(str(addresses[0].display_name)):
        raise MailError(f"the message's {name} header has a name with a line break")
    return str(addresses[0].addr_spec)
