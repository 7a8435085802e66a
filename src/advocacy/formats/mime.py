"""Email letters: one RFC 5322 message per letter, built from the composed letter.

    multipart/mixed
     ├── multipart/alternative
     │    ├── text/plain    the letter as text (mailtext.py)
     │    └── text/html     the letter with the email stylesheet inlined
     └── application/pdf   the print letter (unless --no-attach-pdf)

No header takes a line break from the data (a CR or LF would let a recipient
list inject headers), and every address passes email-validator's syntax
check (no DNS). The Message-ID is a digest of the campaign, the recipient,
the language and the content: the same letter keeps its id, a changed one
gets a new one, which is how `send` notices a letter changed after it went.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import html as htmllib
import mimetypes
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..errors import LimitExceeded, MailError, TemplateError
from ..fsutil import is_within
from ..letter.compose import Letter
from ..paths import ASSETS_DIR, CAMPAIGN_FILE
from .headercheck import header_problem
from .images import pixel_problem

EMAIL_CSS = ASSETS_DIR / "email.css"
CAMPAIGN_EMAIL_CSS = "email.css"  # optional, in the campaign's templates/
MBOX = "letters.mbox"
# CRLF lines, RFC 2047 headers, and bodies in 7 bits (quoted-printable or base64,
# whichever is shorter), so that no server needs 8BITMIME or SMTPUTF8.
POLICY = SMTP.clone(cte_type="7bit")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)


def _short(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def check_header(value: str, what: str) -> str:
    """`value` unchanged, or a MailError when it would break out of its header line."""
    problem = header_problem(value)  # as written, and with encoded words decoded
    if problem:
        raise MailError(f"{what} {_short(value)!r} {problem}")
    return value


def check_address(value: str, what: str) -> str:
    """The address in ASCII form (IDNA domain), checked for syntax only, never DNS."""
    from email_validator import EmailNotValidError, validate_email

    check_header(value, what)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise MailError(f"{what} {value!r} is not a valid email address: {exc}") from None
    if result.ascii_email is None:
        raise MailError(
            f"{what} {value!r} has a non-ASCII local part, which needs SMTPUTF8; "
            "give an ASCII address"
        )
    return str(result.ascii_email)


def mailbox_address(name: str, addr: str, what: str) -> Address:
    """`Name <addr>` with both parts checked; the name is RFC 2047-encoded when sent."""
    check_header(name, f"{what} (name)")
    return Address(display_name=" ".join(name.split()), addr_spec=check_address(addr, what))


# RFC 5322 atext: a display name made of these words needs neither quotes nor encoding.
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
# RFC 2047 5(3): the characters an encoded word in a phrase may carry as they are.
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_WORD_MAX = 75  # RFC 2047: an encoded word is at most 75 characters
_LINE_MAX = 78  # RFC 5322: lines SHOULD stay within 78 characters


def _q(text: str) -> str:
    out = []
    for char in text:
        if char == " ":
            out.append("_")
        elif char in _Q_SAFE:
            out.append(char)
        else:
            out.append("".join(f"={byte:02X}" for byte in char.encode("utf-8")))
    return "".join(out)


def _b(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded words (Q, or B where shorter, as for Greek or Cyrillic),
    each whole characters and at most 75 long. Words break after a space where they
    can: some decoders (Python's own among them) put a space between adjacent encoded
    words, which then only doubles a space."""
    scheme, encode = ("q", _q) if len(_q(text)) <= len(_b(text)) else ("b", _b)
    room = _WORD_MAX - len("=?utf-8?q??=")
    words = text.split(" ")
    chunks, current = [], ""
    for token in [word + " " for word in words[:-1]] + words[-1:]:
        if current and len(encode(current + token)) > room:
            chunks.append(current)
            current = ""
        if len(encode(current + token)) <= room:
            current += token
            continue
        for char in token:  # a word longer than an encoded word breaks between characters
            if current and len(encode(current + char)) > room:
                chunks.append(current)
                current = ""
            current += char
    if current:
        chunks.append(current)
    return [f"=?utf-8?{scheme}?{encode(chunk)}?=" for chunk in chunks]


class AddressHeader(str):
    """An address header folded by us, not by the email package.

    Python's folder drops the quotes around a long display name that holds a comma
    (`To: Federale Overheidsdienst Buitenlandse Zaken, Buitenlandse Handel en` ...),
    which every reader then parses as two addresses. A display name of plain words is
    written as atoms; any other is written as encoded words, which hold no specials
    and may be folded between. The email policy keeps a value that has a matching
    `name` as it is and calls its `fold`."""

    name: str
    tokens: tuple[str, ...]

    def __new__(cls, name: str, address: Address) -> AddressHeader:
        display = " ".join(address.display_name.split())
        if not display:
            tokens: list[str] = []
        elif all(_ATOM.fullmatch(word) for word in display.split(" ")):
            tokens = display.split(" ")
        else:
            tokens = _encoded_words(display)
        tokens.append(f"<{address.addr_spec}>" if tokens else address.addr_spec)
        self = super().__new__(cls, " ".join(tokens))
        self.name, self.tokens = name, tuple(tokens)
        return self

    def fold(self, *, policy: Any) -> str:
        lines = [f"{self.name}:"]
        for token in self.tokens:
            if len(lines[-1]) + 1 + len(token) > _LINE_MAX and lines[-1] != f"{self.name}:":
                lines.append("")
            lines[-1] += " " + token
        return str(policy.linesep).join(lines) + str(policy.linesep)


def header_address(data: bytes, name: str = "To") -> str:
    """The one address in header `name` of a message, read by the email package's strict
    parser; a MailError when the header holds none, several, or defects."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    from .headercheck import one_address
    from .headers import header_block

    headers = BytesHeaderParser(policy=default).parsebytes(header_block(data))
    values = [value for key, value in headers.raw_items() if key.lower() == name.lower()]
    if len(values) != 1:
        raise MailError(f"the message has {len(values)} {name} headers, not one")
    return one_address(name, values[0])


def same_address(a: str, b: str) -> bool:
    """Equal as mailboxes: the local part as written, the domain in any case."""
    local_a, _, domain_a = a.rpartition("@")
    local_b, _, domain_b = b.rpartition("@")
    return local_a == local_b and domain_a.lower() == domain_b.lower()


def sender_address(campaign: Campaign, override: str = "") -> Address:
    """From: `--from` (an address or `Name <address>`), else the campaign's sender."""
    sender = campaign.config.sender
    if override:
        check_header(override, "--from")
        name, addr = email.utils.parseaddr(override)
        return mailbox_address(name or sender.organisation, addr or override, "--from")
    if not sender.email:
        raise MailError(
            f"{CAMPAIGN_FILE}: 'sender.email' is empty; email letters need a From address "
            "(or give --from)"
        )
    return mailbox_address(sender.organisation, sender.email, f"{CAMPAIGN_FILE}: sender.email")


def reply_to(campaign: Campaign) -> str:
    value = campaign.config.sender.reply_to
    return check_address(value, f"{CAMPAIGN_FILE}: sender.reply_to") if value else ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str = "application/pdf"


@dataclass
class Draft:
    """Everything one message is made of; `build` turns it into bytes."""

    key: str  # recipient id, or relay:<address>
    campaign: str
    languages: list[str]
    sender: Address
    to: Address
    subject: str
    text: str
    html: str | None = None
    reply_to: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    related: list[tuple[str, Attachment]] = field(default_factory=list)  # (cid, image)
    left_out: list[str] = field(default_factory=list)  # remote references not sent
    in_reply_to: str = ""  # a follow-up: the first letter's Message-ID

    def message_id(self) -> str:
        digest = hashlib.sha256()
        for part in (
            self.campaign,
            self.key,
            ",".join(self.languages),
            str(self.sender),
            str(self.to),
            self.reply_to,
            self.subject,
            self.text,
            self.html or "",
            self.in_reply_to,
        ):
            digest.update(part.encode("utf-8") + b"\0")
        for item in [*self.attachments, *(image for _, image in self.related)]:
            digest.update(item.filename.encode() + b"\0" + hashlib.sha256(item.data).digest())
        return f"<{digest.hexdigest()[:40]}@{self.sender.domain or 'advocacy.invalid'}>"


def build(draft: Draft, *, date: dt.datetime | None = None) -> bytes:
    """The message as sent: CRLF lines, 7-bit (quoted-printable and base64 bodies)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = AddressHeader("From", draft.sender)
    msg["To"] = AddressHeader("To", draft.to)
    if draft.reply_to:
        msg["Reply-To"] = AddressHeader("Reply-To", Address(addr_spec=draft.reply_to))
    msg["Subject"] = check_header(draft.subject, "subject")
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now().astimezone())
    msg["Message-ID"] = draft.message_id()
    if draft.in_reply_to:  # a follow-up: mail clients show it in the first letter's thread
        msg["In-Reply-To"] = draft.in_reply_to
        msg["References"] = draft.in_reply_to
    msg.set_content(draft.text)
    if draft.html is not None:
        msg.add_alternative(draft.html, subtype="html")
        html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
        for cid, image in draft.related:
            maintype, _, subtype = image.mimetype.partition("/")
            html_part.add_related(
                image.data, maintype, subtype, cid=f"<{cid}>", filename=image.filename
            )
    for item in draft.attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    # Last: making the message multipart moves Content-* headers into the first part.
    msg["Content-Language"] = ", ".join(draft.languages)
    return msg.as_bytes()


def _embed_images(html: str, root: Path) -> tuple[str, list[tuple[str, Attachment]]]:
    """Relative <img> sources inside the campaign folder become cid: parts of the
    message (a mail client cannot follow a path on the sender's disk)."""
    related: dict[str, tuple[str, Attachment]] = {}

    def swap(match: re.Match[str]) -> str:
        src = htmllib.unescape(match.group(2))
        if not src or ":" in src or src.startswith(("/", "#")):
            return match.group(0)
        path = root / src
        if not (is_within(path, root) and path.is_file()):
            return match.group(0)
        if src not in related:
            data = path.read_bytes()
            problem = pixel_problem(data)  # a reader's mail program would decode it
            if problem:
                raise LimitExceeded(f"{src} {problem}")
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            cid = f"{hashlib.sha256(data).hexdigest()[:24]}@advocacy"
            related[src] = (cid, Attachment(path.name, data, mimetype))
        return f"{match.group(1)}cid:{related[src][0]}{match.group(3)}"

    return _IMG_SRC.sub(swap, html), list(related.values())


def _subject(letter: Letter) -> str:
    # The composed subject is HTML-escaped text (it is made for the letter's page).
    # The reference goes at its end, so that a reply whose client dropped the
    # In-Reply-To and References headers is still matched (track/replies.py).
    subject = " ".join(letter.subject.replace("\u00a0", " ").split())
    return f"{subject} [Ref. {letter.reference}]" if letter.reference else subject


class LetterMailer:
    """Builds the email letters of one campaign; one per worker process."""

    def __init__(self, campaign: Campaign, mail_from: str = "") -> None:
        import css_inline

        self.campaign = campaign
        self.sender = sender_address(campaign, mail_from)
        self.reply_to = reply_to(campaign)
        css = EMAIL_CSS.read_text(encoding="utf-8")
        own = campaign.templates_dir / CAMPAIGN_EMAIL_CSS
        if own.is_file() and is_within(own, campaign.root):
            css += "\n" + own.read_text(encoding="utf-8")
        # The letter's own <style> holds print rules (@page); links are never fetched.
        self.inliner = css_inline.CSSInliner(
            inline_style_tags=False,
            keep_style_tags=False,
            keep_link_tags=False,
            load_remote_stylesheets=False,
            extra_css=css,
        )

    def recipient(self, recipient: Recipient, letter: Letter) -> Address:
        """The To address; a MailError stops this one letter."""
        what = f"recipient {recipient.id!r}: field 'email'"
        name = recipient.name or recipient.text(recipient.organisation, letter.languages)
        return mailbox_address(name, recipient.email, what)

    def html(self, html: str) -> tuple[str, list[tuple[str, Attachment]], list[str]]:
        """The email's HTML: images embedded, the stylesheet inlined, and every remote
        reference left out (with what was left out)."""
        import css_inline

        from .clean import strip_remote

        html, related = _embed_images(html, self.campaign.root)
        try:
            inlined = self.inliner.inline(html)
        except (css_inline.InlineError, ValueError) as exc:
            raise TemplateError(
                f"templates/{CAMPAIGN_EMAIL_CSS} or the letter's HTML: cannot inline the "
                f"email stylesheet: {exc}"
            ) from None
        cleaned, left_out = strip_remote(inlined)
        return cleaned, related, left_out

    def draft(self, letter: Letter, recipient: Recipient, pdf: Attachment | None) -> Draft:
        from .text import html_to_text

        try:
            html, related, left_out = self.html(letter.html)
        except LimitExceeded as exc:  # an image too large to embed
            raise LimitExceeded(f"{exc} (recipient {recipient.id!r}, email)") from None
        return Draft(
            key=recipient.id,
            campaign=self.campaign.config.campaign.title,
            languages=list(letter.languages),
            sender=self.sender,
            to=self.recipient(recipient, letter),
            subject=check_header(_subject(letter), f"recipient {recipient.id!r}: subject"),
            text=html_to_text(letter.html),
            html=html,
            reply_to=self.reply_to,
            attachments=[pdf] if pdf else [],
            related=related,
            left_out=left_out,
            in_reply_to=letter.in_reply_to,
        )


def write_mbox(target: Path, messages: Iterable[Path]) -> int:
    """All `messages` in one mbox file for review in a mail client; atomic."""
    import mailbox

    count = 0
    # mailbox.mbox writes its own file: fill a temporary one, then rename it.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    box = mailbox.mbox(tmp, create=True)
    try:
        for path in messages:
            box.add(path.read_bytes().replace(b"\r\n", b"\n"))
            count += 1
        box.flush()
    finally:
        box.close()
    os.replace(tmp, target)
    return count
