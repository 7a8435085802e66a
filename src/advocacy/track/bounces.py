"""Tell a bounce from other mail, and read what it says: who, which code, why.

Two kinds of bounce arrive:
- delivery status notifications (RFC 3464): `multipart/report;
  report-type=delivery-status`, whose `message/delivery-status` part has one
  block of fields per recipient (Final-Recipient, Action, Status,
  Diagnostic-Code). Python's `email` package parses that part into those blocks
  itself, so they are read here directly: the status code and the diagnostic
  are exact, and only `Action: failed` counts (a `delayed` notice is not a bounce).
- everything else mail servers still send: Exchange 5.5-2003 "did not reach the
  following recipient(s)", qmail, Yahoo, "Undeliverable" texts... For those,
  flufl.bounce (GNU Mailman's bounce detectors, 17 formats) finds the addresses
  that failed for good; its detectors report addresses only, so the status code
  and the diagnostic line are taken from the text around them.

The letter a bounce is about is found by the Message-ID of the returned
original (in a `message/rfc822` or `text/rfc822-headers` part, or quoted in the
text), else by the failed address.
"""

from __future__ import annotations

import email
import email.utils
import re
from dataclasses import dataclass
from email.message import Message

_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"(?<!\d)([45]\d\d)(?:[ -])")
_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Bounce:
    addresses: tuple[str, ...]  # the recipients that failed, lower case
    code: str  # "5.1.1" (or an SMTP reply code where no enhanced code was given)
    diagnostic: str  # the server's words
    original_id: str  # Message-ID of the returned message, or ""
    how: str  # "dsn" or the kind of non-standard bounce


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")
    return str(part.get_payload()) if not part.is_multipart() else ""


def _bare(value: str) -> str:
    """`rfc822; Jane@Example.org` -> `jane@example.org`."""
    return value.partition(";")[2].strip().strip("<>").lower() if ";" in value else value.lower()


def _original_id(msg: Message) -> str:
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(first, Message) and first["Message-ID"]:
                return str(first["Message-ID"]).strip()
        elif kind in ("text/rfc822-headers", "text/plain"):
            found = _MESSAGE_ID.search(_text(part))
            if found and part is not msg:
                return found.group(1)
    return ""


def _dsn(msg: Message) -> Bounce | None:
    status = next(
        (p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if status is None:
        return None
    blocks = status.get_payload()
    if not isinstance(blocks, list):
        return None
    failed: list[str] = []
    code = diagnostic = ""
    for block in blocks[1:]:  # the first block is about the message, the rest per recipient
        if not isinstance(block, Message):
            continue
        if str(block.get("Action", "")).strip().lower() != "failed":
            continue
        failed.append(_bare(str(block.get("Final-Recipient") or block.get("Original-Recipient"))))
        code = code or str(block.get("Status", "")).strip()
        diagnostic = diagnostic or " ".join(
            str(block.get("Diagnostic-Code", "")).partition(";")[2].split()
        )
    if not failed:
        return None  # delayed, relayed, delivered: not a bounce
    return Bounce(tuple(failed), code, diagnostic, _original_id(msg), "dsn")


def _human_text(msg: Message) -> str:
    texts = []
    for part in msg.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            break  # the returned original follows: its text is not the server's
        if part.get_content_type() == "text/plain":
            texts.append(_text(part))
    return "\n".join(texts)


def _heuristic(msg: Message) -> Bounce | None:
    from flufl.bounce import all_failures

    _, permanent = all_failures(msg)
    if not permanent:
        return None
    addresses = tuple(sorted(a.decode("ascii", "replace").strip("<>").lower() for a in permanent))
    text = _human_text(msg) or _text(msg)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    with_code = [line for line in lines if _STATUS.search(line)]
    code_line = with_code[0] if with_code else ""
    code = _STATUS.search(code_line)
    smtp = None if code else next((m for line in lines if (m := _SMTP_CODE.search(line))), None)
    if not code_line and smtp is not None:
        code_line = next(line for line in lines if _SMTP_CODE.search(line))
    at = next((i for i, line in enumerate(lines) if any(a in line.lower() for a in addresses)), -1)
    diagnostic = code_line or (lines[at] if at >= 0 else "")
    if code_line and len(_STATUS.sub("", code_line).split()) < 3 and at >= 0:
        # Exchange puts its words between the address line and "<host #5.1.1>".
        end = lines.index(code_line)
        named = [i for i in range(end) if any(a in lines[i].lower() for a in addresses)]
        diagnostic = " ".join(lines[named[-1] + 1 : end]) if named else code_line
    mailer = str(msg.get("X-Mailer", "")) + str(msg.get("X-MimeOLE", ""))
    how = "exchange" if "MSEXCH" in text or "Exchange" in mailer else "text"
    found = _MESSAGE_ID.search(text) or _MESSAGE_ID.search(_text_all(msg))
    return Bounce(
        addresses,
        code.group(1) if code else (smtp.group(1) if smtp else ""),
        diagnostic[:300],
        found.group(1) if found else _original_id(msg),
        how,
    )


def _text_all(msg: Message) -> str:
    return "\n".join(_text(p) for p in msg.walk() if p.get_content_maintype() == "text")


_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "maildelivery"}
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status|failure|failed|notification|has failed)"
    r"|non-?delivery|failure notice|could not be delivered|not delivered|unzustellbar"
    r"|nicht zustellbar|non remis|no entregado|niedostarczon|nedoručiteln|kézbesíthetetlen",
    re.IGNORECASE,
)


def _looks_like_a_bounce(msg: Message) -> bool:
    """A mail server's notice, not a person's mail: the null sender (RFC 5321 4.5.5),
    a daemon's address, or a subject that says so. Only such mail goes through the
    heuristic detectors, which are slow and could take a quoted notice for a bounce."""
    if str(msg.get("Return-Path", "")).strip() == "<>":
        return True
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1].partition("@")[0].lower()
    return sender in _DAEMONS or bool(_BOUNCE_SUBJECT.search(str(msg.get("Subject", ""))))


def read_bounce(data: bytes) -> Bounce | None:
    """The bounce the mail `data` is, or None for any other mail."""
    msg = email.message_from_bytes(data)  # compat32: several times faster to walk
    is_report = msg.get_content_type() == "multipart/report"
    if is_report and str(msg.get_param("report-type", "")).lower() == "delivery-status":
        return _dsn(msg)
    return _heuristic(msg) if _looks_like_a_bounce(msg) else None
