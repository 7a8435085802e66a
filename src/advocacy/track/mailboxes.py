"""Where `advocacy inbox` reads mail: an IMAP folder, a Maildir or an mbox file.

Reading never changes a mailbox: IMAP messages are fetched with BODY.PEEK (their
\\Seen flag stays as it was) from a folder opened read-only, and local files are
only read. Only `--move-to FOLDER` moves the mails that were recorded (IMAP: MOVE,
or COPY and expunge on a server without it; Maildir: into its subfolder).
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import mailbox
import os
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..errors import BadInput, MailboxError

PASSWORD_ENV = "ADVOCACY_IMAP_PASSWORD"


@dataclass(frozen=True)
class Incoming:
    key: str  # the mailbox's own id of the message (IMAP UID, Maildir key, mbox index)
    data: bytes

    @property
    def source(self) -> str:
        """What makes the mail the same mail on the next run: its Message-ID, else
        the digest of its bytes."""
        head = BytesHeaderParser(policy=compat32).parsebytes(self.data)
        message_id = " ".join(str(head.get("Message-ID", "")).split())
        if message_id:
            return f"mail:{message_id}"
        return f"mail:sha256:{hashlib.sha256(self.data).hexdigest()}"


class Source(Protocol):
    name: str

    def messages(self) -> Iterator[Incoming]: ...
    def move(self, keys: list[str], folder: str) -> None: ...
    def close(self) -> None: ...


class MaildirSource:
    def __init__(self, path: Path) -> None:
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise BadInput(f"--maildir {path}: not a Maildir (it needs cur/ and new/ folders)")
        self.name = str(path)
        self.box = mailbox.Maildir(path, factory=None, create=False)

    def messages(self) -> Iterator[Incoming]:
        for key in sorted(self.box.keys()):
            yield Incoming(key, self.box.get_bytes(key))

    def move(self, keys: list[str], folder: str) -> None:
        target = (
            self.box.get_folder(folder)
            if folder in self.box.list_folders()
            else self.box.add_folder(folder)
        )
        for key in keys:
            message = self.box.get_message(key)
            target.add(message)
            self.box.remove(key)

    def close(self) -> None:
        self.box.close()


class MboxSource:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise BadInput(f"--mbox {path}: no such file")
        self.name = str(path)
        self.box = mailbox.mbox(path, factory=None, create=False)

    def messages(self) -> Iterator[Incoming]:
        for key in self.box.iterkeys():
            yield Incoming(str(key), self.box.get_bytes(key))

    def move(self, keys: list[str], folder: str) -> None:
        raise BadInput("--move-to works with --imap and --maildir, not with an mbox file")

    def close(self) -> None:
        self.box.close()


class ImapSource:
    """imaps://user@host[:port]/FOLDER (TLS from the start) or imap://... (STARTTLS,
    required); imap+plain://127.0.0.1 is for this machine only (no TLS)."""

    def __init__(
        self,
        url: str,
        password: Callable[[str], str] | None,
        *,
        cafile: Path | None = None,
        writable: bool = False,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("imaps", "imap", "imap+plain") or not parts.hostname:
            raise BadInput(
                f"--imap {url!r}: give imaps://user@host/INBOX (or imap://user@host/INBOX "
                "for STARTTLS)"
            )
        if parts.password:
            raise BadInput(
                f"--imap: the URL holds a password; remove it and set {PASSWORD_ENV} instead"
            )
        user = unquote(parts.username or "")
        if not user:
            raise BadInput(f"--imap {url!r}: name the user: imaps://user@{parts.hostname}/INBOX")
        host = parts.hostname
        if parts.scheme == "imap+plain" and host not in ("127.0.0.1", "localhost", "::1"):
            raise BadInput(f"--imap {url!r}: imap+plain:// (no TLS) is for 127.0.0.1 only")
        self.folder = unquote(parts.path.lstrip("/")) or "INBOX"
        self.name = f"{parts.scheme}://{user}@{host}/{self.folder}"
        secret = os.environ.get(PASSWORD_ENV, "")
        if not secret:
            if password is None:
                raise BadInput(f"--imap: set {PASSWORD_ENV} (no terminal to ask for a password)")
            secret = password(f"IMAP password for {user}@{host}")
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
        try:
            if parts.scheme == "imaps":
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    host, parts.port or 993, ssl_context=context, timeout=60
                )
            else:
                self.imap = imaplib.IMAP4(host, parts.port or 143, timeout=60)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxError(f"{self.name}: cannot reach the IMAP server: {exc}") from None
        try:
            self._open(parts.scheme, user, secret, context, writable)
        except BaseException:
            self.close()  # LOGOUT after every failure: a server counts abandoned sessions
            raise

    def _open(
        self, scheme: str, user: str, secret: str, context: ssl.SSLContext, writable: bool
    ) -> None:
        try:
            if scheme == "imap":
                if "STARTTLS" not in self.imap.capabilities:
                    raise MailboxError(
                        f"{self.name}: the server does not offer STARTTLS, so the password "
                        "would travel in clear; nothing was sent: use imaps:// (port 993)"
                    )
                self.imap.starttls(ssl_context=context)
            self.imap.login(user, secret)
            kind, _ = self.imap.select(_quote(self.folder), readonly=not writable)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self.name}: the IMAP server refused: {_said(exc)}") from None
        except (OSError, ssl.SSLError) as exc:
            raise MailboxError(f"{self.name}: cannot reach the IMAP server: {exc}") from None
        if kind != "OK":
            raise MailboxError(f"{self.name}: no such folder on the server")

    def messages(self) -> Iterator[Incoming]:
        kind, data = self.imap.uid("SEARCH", "ALL")
        uids = data[0].split() if kind == "OK" and data and data[0] else []
        for uid in uids:
            kind, parts = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
            for part in parts:
                if isinstance(part, tuple):
                    yield Incoming(uid.decode(), part[1])

    def move(self, keys: list[str], folder: str) -> None:
        if not keys:
            return
        uids = ",".join(keys)
        self.imap.create(_quote(folder))  # "already exists" is fine
        if b"MOVE" in b" ".join(_capabilities(self.imap)):
            kind, data = self.imap.uid("MOVE", uids, _quote(folder))
        else:
            kind, data = self.imap.uid("COPY", uids, _quote(folder))
            if kind == "OK":
                self.imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
                self.imap.expunge()
        if kind != "OK":
            raise MailboxError(f"{self.name}: cannot move mail to {folder!r}: {data!r}")

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.imap.logout()


def _capabilities(imap: imaplib.IMAP4) -> list[bytes]:
    return [c.encode() if isinstance(c, str) else c for c in imap.capabilities]


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)
