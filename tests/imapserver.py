"""A private, real Dovecot IMAP server (Debian's dovecot-imapd) on 127.0.0.1, for tests.

Made like tests/postfix.py makes its Dovecot: one folder from `tempfile.mkdtemp`
under /tmp (Dovecot drops root for dovecot, dovenull and nobody, who cannot pass
through pytest's 0700 folders), removed on `stop()`:

    dovecot.conf   the whole configuration; /etc/dovecot is never read
    users          a passwd-file with one user and a {PLAIN} password
    tls/           a self-signed certificate for 127.0.0.1, made at start
    mail/<user>/   the user's Maildir, owned by nobody
    run/, state/   base_dir and state_dir of its own: invisible to the system's doveadm
    dovecot.log    its log

What differs from a real server: one IMAPS listener (TLS from the first byte) on a
free port of 127.0.0.1, and a plain IMAP port only when asked for: `plain="starttls"`
adds one that offers STARTTLS (Dovecot counts 127.0.0.1 as secured, so it would even
take a login in clear there: refusing that is the client's job); `plain="cleartext"` is
a server with `ssl = no`, a plain port and no STARTTLS at all (what a client must refuse
to log in to); `auth_failure_delay = 0` (no test waits 2 s on a wrong password); no
fsync (`mail_fsync = never`): the mails are thrown away. Tests put mail in with IMAP
APPEND and read the folders back over IMAP.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mailserver import self_signed
from postfix import end_instance

DOVECOT = "/usr/sbin/dovecot"
IMAP_BINARY = "/usr/lib/dovecot/imap"
USER = "campaigner"

CONF = """\
# A private Dovecot IMAP server for tests: see tests/imapserver.py.
base_dir = {root}/run
state_dir = {root}/state
instance_name = {name}
protocols = imap
listen = 127.0.0.1
{ssl}
log_path = {root}/dovecot.log
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{root}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
"""
TLS = "ssl = required\nssl_cert = <{root}/tls/server.pem\nssl_key = <{root}/tls/server.key"
PLAIN_MODES = ("", "starttls", "cleartext")


class HarnessError(AssertionError):
    """The test Dovecot could not be set up (not a failure of advocacy)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ImapServer:
    def __init__(self, plain: str = "") -> None:
        assert plain in PLAIN_MODES, plain
        if not (os.access(DOVECOT, os.X_OK) and os.access(IMAP_BINARY, os.X_OK)):
            raise HarnessError(
                "Dovecot's IMAP server is not installed: run scripts/install.sh --test "
                "(it installs the Debian package dovecot-imapd)"
            )
        if os.geteuid() != 0:
            raise HarnessError("a private Dovecot must be started as root (it drops root)")
        self.root = Path(tempfile.mkdtemp(prefix="advocacy-imap-"))
        self.root.chmod(0o711)
        self.user = USER
        self.password = secrets.token_urlsafe(12)
        self.port = 0  # IMAPS (none for plain="cleartext")
        self.plain = plain
        self.plain_port = 0  # plain IMAP (only when asked for)
        self.cafile = self.root / "tls" / "server.pem"

    def start(self, timeout: float = 20) -> ImapServer:
        nobody = pwd.getpwnam("nobody")
        dovecot = pwd.getpwnam("dovecot")
        (self.root / "tls").mkdir(mode=0o700)
        self_signed(self.root / "tls")
        mail = self.root / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        users = self.root / "users"
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n", "utf-8")
        users.chmod(0o640)
        os.chown(users, 0, dovecot.pw_gid)
        self.port = 0 if self.plain == "cleartext" else _free_port()
        self.plain_port = _free_port() if self.plain else 0
        conf = self.root / "dovecot.conf"
        name = f"advocacy-imap-{self.root.name}"
        ssl = "ssl = no" if self.plain == "cleartext" else TLS.format(root=self.root)
        text = CONF.format(
            root=self.root, name=name, port=self.port, plain_port=self.plain_port, ssl=ssl
        )
        conf.write_text(text, "utf-8")
        # Output through a file, not a pipe: the daemon would keep a pipe open.
        with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
            result = subprocess.run(
                [DOVECOT, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, timeout=timeout,
            )  # fmt: skip
            output.seek(0)
            said = output.read()
        if result.returncode != 0:
            self.stop()
            raise HarnessError(f"dovecot did not start:\n{said}\n{self.log()}")
        deadline = time.monotonic() + timeout
        while not self._accepts():
            if time.monotonic() > deadline:
                self.stop()
                raise HarnessError(f"dovecot does not accept IMAPS connections:\n{self.log()}")
            time.sleep(0.05)
        return self

    def _accepts(self) -> bool:
        try:
            for port in (p for p in (self.port, self.plain_port) if p):
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
            return True
        except OSError:
            return False

    @property
    def url(self) -> str:
        """For `advocacy inbox --imap`; the password goes in ADVOCACY_IMAP_PASSWORD."""
        return f"imaps://{self.user}@127.0.0.1:{self.port}/INBOX"

    @property
    def starttls_url(self) -> str:
        """imap:// on the plain port: the client must upgrade with STARTTLS."""
        return f"imap://{self.user}@127.0.0.1:{self.plain_port}/INBOX"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4_SSL]:
        context = ssl.create_default_context(cafile=str(self.cafile))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=30)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, data: bytes, folder: str = "INBOX") -> None:
        with self.client() as imap:
            kind, said = imap.append(folder, None, None, data)
            if kind != "OK":
                raise HarnessError(f"APPEND refused: {said!r}")

    def messages(self, folder: str = "INBOX") -> list[tuple[bytes, bytes]]:
        """(flags, bytes) of every message in `folder`, read without marking it seen."""
        found = []
        with self.client() as imap:
            kind, _ = imap.select(f'"{folder}"', readonly=True)
            if kind != "OK":
                return []
            _, data = imap.uid("SEARCH", "ALL")
            for uid in data[0].split():
                _, parts = imap.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                for part in parts:
                    if isinstance(part, tuple):
                        found.append((part[0], part[1]))
        return found

    def stop(self) -> None:
        end_instance(self.root, self.root / "run" / "master.pid")


@contextmanager
def running(plain: str = "") -> Iterator[ImapServer]:
    server = ImapServer(plain)
    try:
        yield server.start()
    finally:
        server.stop()
