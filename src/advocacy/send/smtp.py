"""SMTP sessions: the server a URL names, and one connection kept open for many
messages, over TLS (STARTTLS or implicit) with a login.

A session reports a transaction's reply, or `Dropped` when the connection ended
before the server answered; dispatch.py decides what that means for the message.
Connecting raises `Transient` for what may pass (refused, timed out, a 4xx
greeting) and SmtpError for what will not (an untrusted certificate, a refused login).

The password lives in a `Secret` that never shows itself in a repr, a log or an
error; errors name the server as `smtp://user@host:port`, never with a password.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from ..errors import (
    BadInput,
    Dropped,
    LostAfterData,
    Oversized,
    SmtpError,
    Stalled,
    Transient,
    Unresponsive,
)
from .wire import Wire, WireSSL

SCHEMES = {"smtp": ("starttls", 587), "smtps": ("tls", 465), "smtp+plain": ("plain", 25)}
PASSWORD_ENV = "ADVOCACY_SMTP_PASSWORD"


class Secret:
    """A password that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str  # starttls | tls | plain
    username: str = ""
    cafile: Path | None = None
    timeout: float = 60.0  # seconds for each whole reply (wire.py)
    helo: str = ""  # the name given in EHLO (outbound.helo_name)

    def __str__(self) -> str:
        scheme = next(name for name, (kind, _) in SCHEMES.items() if kind == self.security)
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def is_loopback(host: str) -> bool:
    """Every address `host` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def parse_url(url: str, *, what: str = "--smtp", cafile: Path | None = None) -> Server:
    """smtp://user@host:587 (STARTTLS), smtps://host:465 (TLS), smtp+plain://127.0.0.1:25.

    Messages never repeat the URL: it might hold a password by mistake."""
    schemes = ", ".join(f"{name}://" for name in SCHEMES)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        password = parts.password
    except ValueError:
        raise BadInput(f"{what}: not a valid SMTP URL; write e.g. smtp://user@host:587") from None
    if password is not None:
        raise BadInput(
            f"{what}: the URL holds a password; remove it and set the environment variable "
            f"{PASSWORD_ENV} or type it when asked"
        )
    if parts.scheme not in SCHEMES:
        raise BadInput(f"{what}: the URL must start with {schemes} (e.g. smtp://user@host:587)")
    if not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise BadInput(f"{what}: write the URL as SCHEME://[user@]host[:port], nothing after it")
    security, default_port = SCHEMES[parts.scheme]
    host = parts.hostname
    if security == "plain" and not is_loopback(host):
        raise BadInput(
            f"{what}: smtp+plain:// (no TLS) is allowed only to a server on this machine "
            f"(a loopback address), not {host}; use smtp:// (STARTTLS) or smtps://"
        )
    return Server(host, port or default_port, security, unquote(parts.username or ""), cafile)


def parse_rate(text: str, what: str = "--rate") -> float:
    """Messages per second from `30/min`, `2/s`, `600/h` or a bare number per minute."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|m|min|h|hour))?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise BadInput(f"{what} {text!r}: write messages per minute, e.g. 30/min (or 2/s, 600/h)")
    per = {"s": 1, "sec": 1, "h": 3600, "hour": 3600}.get(match.group(2) or "min", 60)
    return float(match.group(1)) / per


@dataclass(frozen=True)
class Reply:
    code: int
    text: str
    stage: str = "end"  # the command answered: mail | rcpt | data | end (after the data)

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _dot_quote(data: bytes) -> bytes:
    """Transparency (RFC 5321 4.5.2): a line starting with '.' gets another '.'."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Session:
    """One SMTP connection, kept open for many messages (see wire.py for its bounds)."""

    def __init__(self, server: Server, password: Secret | None) -> None:
        self.server = server
        self.password = password
        self.conn: Wire | None = None
        self.messages = 0
        self.opened = time.monotonic()

    def open(self) -> None:
        """Connect, greet, STARTTLS, log in. A failure after the greeting says QUIT
        (a server that has seen no goodbye counts a lost connection against us)."""
        server = self.server
        context = None
        if server.security != "plain":
            context = ssl.create_default_context(
                cafile=str(server.cafile) if server.cafile else None
            )
        helo = server.helo or "localhost"
        try:
            if server.security == "tls":
                conn: Wire = WireSSL(
                    server.host, server.port, timeout=server.timeout, local_hostname=helo,
                    context=context,
                )  # fmt: skip
            else:
                conn = Wire(server.host, server.port, timeout=server.timeout, local_hostname=helo)
            self.conn = conn
            conn.ehlo()
            if server.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SmtpError(
                        f"{server}: the server offers no STARTTLS, and advocacy does not send "
                        "passwords or letters in the clear; use smtps:// or another server"
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if server.username:
                self._login(conn)
        except ssl.SSLCertVerificationError as exc:
            self.close()  # the TLS alert is the goodbye: no plain-text QUIT inside TLS
            raise SmtpError(
                f"{server}: the server's TLS certificate is not trusted "
                f"({exc.verify_message}); if it is your own server's, pass its certificate "
                "with --cafile"
            ) from None
        except ssl.SSLError as exc:
            self.close()
            raise SmtpError(
                f"{server}: the TLS handshake failed ({exc.reason}); check the scheme and "
                "port (smtps:// is usually port 465, smtp:// with STARTTLS port 587)"
            ) from None
        except Oversized as exc:
            self.close()
            raise SmtpError(f"{server}: {exc}; this is not a mail server to send to") from None
        except Stalled as exc:
            self.close()
            raise Unresponsive(str(exc)) from None
        except smtplib.SMTPResponseException as exc:
            self.quit()
            reply = Reply(exc.smtp_code, _text(exc.smtp_error))
            if 400 <= exc.smtp_code < 500:
                raise Transient(str(reply)) from None
            raise SmtpError(f"{server}: the server refused the session: {reply}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise Transient(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            self.quit()
            raise

    def _login(self, conn: Wire) -> None:
        """One mechanism, one try: a refused password is never offered again (smtplib's
        login() would go on to the next mechanism, and fail2ban counts each)."""
        server = self.server
        if not conn.has_extn("auth"):
            raise SmtpError(f"{server}: the server offers no login (AUTH); remove the user name")
        if self.password is None:
            raise SmtpError(f"{server}: a password is needed; set {PASSWORD_ENV}")
        offered = conn.esmtp_features.get("auth", "").upper().split()
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), "")
        if not mechanism:
            raise SmtpError(
                f"{server}: the server offers no login advocacy can use "
                f"({' '.join(offered) or 'none'}; advocacy speaks PLAIN and LOGIN, over TLS)"
            )
        conn.user, conn.password = server.username, self.password.reveal()
        method = conn.auth_plain if mechanism == "PLAIN" else conn.auth_login
        try:
            code, _ = conn.auth(mechanism, method)
        except UnicodeError:  # its message would quote a character of the password
            raise SmtpError(
                f"{server}: the user name or password has characters SMTP login cannot send "
                "(only ASCII)"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            reply = Reply(exc.smtp_code, _text(exc.smtp_error))
            raise SmtpError(
                f"{server}: the server refused the login of {server.username!r} "
                f"(AUTH {mechanism}): {reply}; check the user name and {PASSWORD_ENV}"
            ) from None
        finally:
            conn.password = ""
        if code not in (235, 503):
            raise SmtpError(f"{server}: the login (AUTH {mechanism}) failed: {code}")

    def send(
        self, sender: str, recipient: str, data: bytes, before_commit: Callable[[], None]
    ) -> Reply:
        """One transaction. `before_commit` runs once DATA is answered with 354 and
        before any of the message goes out: from the end of its data on, the server may
        have taken it. (The caller starts its journal's commit before this, so that its
        fsync overlaps the commands' round trip, and waits for it in `before_commit`.)
        Raises Dropped when the connection ends before the final ".", LostAfterData
        when it ends after (the server may have the message)."""
        conn = self.conn
        if conn is None:
            raise Dropped("not connected")
        body = _dot_quote(data) + b".\r\n"
        size = f" SIZE={len(body)}" if conn.has_extn("size") else ""
        commands = [
            f"MAIL FROM:{smtplib.quoteaddr(sender)}{size}",
            f"RCPT TO:{smtplib.quoteaddr(recipient)}",
        ]
        try:
            replies = self._commands(conn, commands)
            refused = next(
                (
                    Reply(code, _text(text), stage)
                    for (code, text), stage in zip(replies, STAGES, strict=False)
                    if code not in OK[stage]
                ),
                None,
            )
            if refused is not None:
                if replies[-1][0] == 354:  # a server that took DATA all the same
                    conn.send(b".\r\n")
                    conn.getreply()
                self._reset()
                return refused
            self._commit(before_commit)
            conn.send(body)
        except Oversized as exc:
            self.close()
            raise SmtpError(f"{self.server}: {exc}; sending stopped") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Dropped(str(exc) or type(exc).__name__) from None
        try:
            code, text = conn.getreply()
        except Oversized as exc:
            self.close()
            raise SmtpError(f"{self.server}: {exc} after a message; sending stopped") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise LostAfterData(str(exc) or type(exc).__name__) from None
        self.messages += 1
        return Reply(code, _text(text), "end")

    def _commands(self, conn: Wire, commands: list[str]) -> list[tuple[int, bytes]]:
        """MAIL, RCPT and DATA, in one write where the server pipelines (RFC 2920), and
        their replies."""
        if conn.has_extn("pipelining"):
            conn.send("".join(f"{c}\r\n" for c in [*commands, "DATA"]))
            return [conn.getreply() for _ in range(len(commands) + 1)]
        replies = []
        for command in commands:
            conn.putcmd(command)
            replies.append(conn.getreply())
            if replies[-1][0] not in (250, 251):
                return replies
        conn.putcmd("data")
        return [*replies, conn.getreply()]

    def _commit(self, before_commit: Callable[[], None]) -> None:
        try:
            before_commit()
        except BaseException:
            self.close()  # hang up: the server discards the transaction
            raise

    def _reset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def quit(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self.close()


STAGES = ("mail", "rcpt", "data")
OK = {"mail": (250,), "rcpt": (250, 251), "data": (354,)}
