"""What a message looks like to the servers it passes, made just before it goes.

- The EHLO name: `[smtp] helo`, else the sender's domain. Never smtplib's
  fallback `[127.0.0.1]`, which a mail admin sees in every Received header.
- The `Date:` of the message is the time it is sent, not the time it was
  rendered: a letter rendered days ago must not look stale to a spam filter.
  Its Message-ID, which is the letter's identity in the journal, is unchanged,
  and the file on disk is not touched.
- Optional DKIM signing (RFC 6376) with dkimpy, over the message as it goes:
  `[smtp] dkim_key` (a PEM private key that only its owner may read),
  `dkim_selector`, and `dkim_domain` (default: the sender's domain).
"""

from __future__ import annotations

import datetime as dt
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from ..campaign.model import Campaign
from ..errors import BadInput
from ..formats.mime import sender_address

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})+")
SIGNED = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
          b"content-type", b"content-language")  # fmt: skip


def helo_name(configured: str, sender: str) -> str:
    """The name for EHLO: a fully qualified domain name, never an address literal."""
    if configured:
        name = configured.strip().rstrip(".")
        if not _HOSTNAME.fullmatch(name):
            raise BadInput(
                f"campaign.toml: smtp.helo {configured!r} is not a fully qualified host name "
                "(e.g. mail.example.org); leave it out to use the sender's domain"
            )
        return name
    domain = sender.rpartition("@")[2].strip().rstrip(".")
    return domain if _HOSTNAME.fullmatch(domain) else "localhost.localdomain"


def _newline(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data[:2000] else b"\n"


def with_date(data: bytes, when: dt.datetime | None = None) -> bytes:
    """`data` with its Date header (folded lines and all) set to `when` (default now)."""
    stamp = format_datetime(when or dt.datetime.now(dt.UTC)).encode()
    nl = _newline(data)
    head, sep, body = data.partition(nl + nl)
    lines = head.split(nl)
    kept: list[bytes] = []
    skipping = False
    for line in lines:
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = line.lower().startswith(b"date:")
        if not skipping:
            kept.append(line)
    kept.insert(_date_position(kept), b"Date: " + stamp)
    return nl.join(kept) + sep + body


def _date_position(lines: list[bytes]) -> int:
    """Where the renderer puts it: just before the Message-ID."""
    for number, line in enumerate(lines):
        if line.lower().startswith(b"message-id:"):
            return number
    return 0


@dataclass(frozen=True)
class Dkim:
    key: bytes
    selector: str
    domain: str

    def sign(self, data: bytes) -> bytes:
        import dkim

        signature: bytes = dkim.sign(
            data,
            self.selector.encode(),
            self.domain.encode(),
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED),
        )
        nl = _newline(data)
        return signature.replace(b"\r\n", nl) + data


def load_dkim(key: str, selector: str, domain: str, where: str) -> Dkim:
    """The signer of `[smtp] dkim_*`; bad settings and an exposed key are one line."""
    try:
        import dkim
    except ImportError:
        raise BadInput(
            f"{where}: DKIM signing needs dkimpy; install it with pip install 'advocacy[dkim]'"
        ) from None
    if not selector or not domain:
        raise BadInput(f"{where}: dkim_key needs dkim_selector (and a sender domain)")
    path = Path(key).expanduser()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{where}: dkim_key {path} is not a file")
        if info.st_mode & 0o077:
            raise BadInput(
                f"{where}: dkim_key {path} can be read by others "
                f"(mode {stat.filemode(info.st_mode)}); make it private: chmod 600 {path}"
            )
        pem = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{where}: dkim_key {path}: {exc.strerror}") from None
    signer = Dkim(pem, selector, domain)
    try:
        signer.sign(b"From: a@b.example\r\nSubject: t\r\n\r\nt\r\n")
    except (dkim.DKIMException, ValueError) as exc:
        raise BadInput(
            f"{where}: dkim_key {path} is not a usable private key (PEM, RSA or Ed25519): "
            f"{type(exc).__name__}"
        ) from None
    return signer


def preparer(signer: Dkim | None) -> Callable[[bytes], bytes]:
    """What is done to each message's bytes just before it goes."""

    def prepare(data: bytes) -> bytes:
        data = with_date(data)
        return signer.sign(data) if signer is not None else data

    return prepare


def helo_for(campaign: Campaign, mail_from: str) -> str:
    return helo_name(campaign.config.smtp.helo, sender_address(campaign, mail_from).addr_spec)


def preparer_for(campaign: Campaign, mail_from: str) -> Callable[[bytes], bytes]:
    """The Date of sending, and the DKIM signature that `[smtp]` asks for."""
    settings = campaign.config.smtp
    signer = None
    if settings.dkim_key:
        domain = settings.dkim_domain or sender_address(campaign, mail_from).domain
        signer = load_dkim(
            settings.dkim_key, settings.dkim_selector, domain, "campaign.toml: [smtp]"
        )
    return preparer(signer)
