"""SMTP delivery: reused sessions over TLS, parallel connections, a token-bucket
rate limit, and retries with exponential backoff.

What happens to a message:
  2xx after its data          sent
  4xx at any step (and 421)   deferred, tried again after backoff x 1, 2, 4, ...
  5xx at any step             failed, with the server's reply; the batch goes on
  connection lost before the server acknowledged the data: tried again on a
  new connection (a server that has not acknowledged a message has not taken
  responsibility for it, RFC 5321 section 4.1.1.4)

The password lives in a `Secret` that never shows itself in a repr, a log or an
error; errors name the server as `smtp://user@host:port`, never with a password.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from ..errors import AdvocacyError, BadInput, SmtpError

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
    timeout: float = 60.0

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

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class Dropped(Exception):
    """The connection ended before the server answered."""


class _Transient(Exception):
    """Connecting failed in a way that may pass (refused, timed out, 4xx greeting)."""


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _dot_quote(data: bytes) -> bytes:
    """Transparency (RFC 5321 4.5.2): a line starting with '.' gets another '.'."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Session:
    """One SMTP connection, kept open for many messages."""

    def __init__(self, server: Server, password: Secret | None) -> None:
        self.server = server
        self.password = password
        self.conn: smtplib.SMTP | None = None
        self.messages = 0

    def open(self) -> None:
        server = self.server
        context = None
        if server.security != "plain":
            context = ssl.create_default_context(
                cafile=str(server.cafile) if server.cafile else None
            )
        try:
            if server.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=server.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
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
            self.close()
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
        except smtplib.SMTPResponseException as exc:
            self.close()
            reply = Reply(exc.smtp_code, _text(exc.smtp_error))
            if 400 <= exc.smtp_code < 500:
                raise _Transient(str(reply)) from None
            raise SmtpError(f"{server}: the server refused the session: {reply}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _login(self, conn: smtplib.SMTP) -> None:
        server = self.server
        if not conn.has_extn("auth"):
            raise SmtpError(f"{server}: the server offers no login (AUTH); remove the user name")
        if self.password is None:
            raise SmtpError(f"{server}: a password is needed; set {PASSWORD_ENV}")
        try:
            conn.login(server.username, self.password.reveal())
        except UnicodeError:  # its message would quote a character of the password
            raise SmtpError(
                f"{server}: the user name or password has characters SMTP login cannot send "
                "(only ASCII)"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            reply = Reply(exc.smtp_code, _text(exc.smtp_error))
            raise SmtpError(
                f"{server}: the server refused the login of {server.username!r}: {reply}; "
                f"check the user name and {PASSWORD_ENV}"
            ) from None

    def send(
        self, sender: str, recipient: str, data: bytes, before_commit: Callable[[], None]
    ) -> Reply:
        """One transaction. `before_commit` runs after DATA is sent and before any of the
        message goes out: from the end of its data on, the server may have taken it."""
        conn = self.conn
        if conn is None:
            raise Dropped("not connected")
        try:
            code, text = conn.mail(sender)
            if code == 250:
                code, text = conn.rcpt(recipient)
            if code not in (250, 251):
                self._reset()
                return Reply(code, _text(text))
            conn.putcmd("data")
            try:
                before_commit()  # while DATA's reply travels: the wait hides the fsync
            except BaseException:
                self.close()  # hang up: the server discards the transaction
                raise
            code, text = conn.getreply()
            if code != 354:
                self._reset()
                return Reply(code, _text(text))
            conn.send(_dot_quote(data) + b".\r\n")
            code, text = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Dropped(str(exc) or type(exc).__name__) from None
        self.messages += 1
        return Reply(code, _text(text))

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


class TokenBucket:
    """At most `rate` messages a second on average, bursts of up to `burst`."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass(order=True)
class Job:
    key: str
    sender: str = field(compare=False)
    recipient: str = field(compare=False)
    path: Path = field(compare=False)
    tries: int = field(default=0, compare=False)


class Events(Protocol):
    """How delivery reports back (send.py writes the journal from these)."""

    def sending(self, job: Job) -> None: ...

    def outcome(self, job: Job, state: str, reply: str, *, counted: bool, final: bool) -> None: ...


@dataclass
class Policy:
    connections: int = 3
    rate: float | None = None  # messages per second
    retries: int = 4  # further tries of a message after a 4xx or a lost connection
    backoff: float = 2.0  # seconds before the first retry; doubled each time
    per_session: int = 100  # messages before a fresh connection (servers cap sessions)


class _Queue:
    """Jobs by the time they may go; knows when nothing is left to come back."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.counter = itertools.count()
        self.heap = [(0.0, next(self.counter), job) for job in jobs]
        self.outstanding = len(jobs)
        self.cond = threading.Condition()

    def take(self, stop: threading.Event) -> Job | None:
        with self.cond:
            while not stop.is_set():
                if self.heap:
                    wait = self.heap[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self.heap)[2]
                    self.cond.wait(min(wait, 0.5))
                elif self.outstanding == 0:
                    return None
                else:
                    self.cond.wait(0.5)
            return None

    def later(self, job: Job, delay: float = 0.0) -> None:
        with self.cond:
            heapq.heappush(self.heap, (time.monotonic() + delay, next(self.counter), job))
            self.cond.notify_all()

    def done(self) -> None:
        with self.cond:
            self.outstanding -= 1
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


class Dispatcher:
    """Sends jobs over `policy.connections` sessions, each in its own thread."""

    def __init__(
        self,
        server: Server,
        password: Secret | None,
        policy: Policy,
        events: Events,
        verify: Callable[[Job, bytes], str] | None = None,
    ) -> None:
        self.server, self.password, self.policy, self.events = server, password, policy, events
        # Run on the very bytes about to go: a non-empty answer fails the job unsent.
        self.verify = verify
        self.stop = threading.Event()
        self.bucket = TokenBucket(policy.rate, burst=policy.connections) if policy.rate else None
        self.fatal: AdvocacyError | None = None
        self.queue = _Queue([])

    def run(self, jobs: Sequence[Job]) -> None:
        """Send everything; Ctrl-C lets each session finish its message, then re-raises."""
        self.queue = _Queue(jobs)
        count = min(self.policy.connections, len(jobs))
        finished = [threading.Event() for _ in range(count)]
        for event in finished:
            threading.Thread(target=self._worker, args=(event,), daemon=True).start()
        # Events, not Thread.join: a join cut short by Ctrl-C may not be waited on again.
        try:
            for event in finished:
                while not event.wait(0.2):
                    pass
        except KeyboardInterrupt:
            self.halt()
            for event in finished:
                event.wait()  # the message in flight finishes and is journaled
            raise
        if self.fatal is not None:
            raise self.fatal

    def halt(self) -> None:
        self.stop.set()
        self.queue.wake()

    def _worker(self, finished: threading.Event) -> None:
        session: Session | None = None
        try:
            while True:
                job = self.queue.take(self.stop)
                if job is None:
                    return
                if self.bucket is not None:
                    wait = self.bucket.reserve()
                    if wait > 0 and self.stop.wait(wait):
                        self.queue.later(job)
                        return
                if session is not None and session.messages >= self.policy.per_session:
                    session.quit()
                    session = None
                if session is None:
                    session = self._connect()
                    if session is None:
                        self.queue.later(job)
                        return
                if not self._attempt(session, job):
                    session.close()
                    session = None
        except AdvocacyError as exc:
            self.fatal = self.fatal or exc
            self.halt()
        except Exception as exc:  # a bug must not leave the other sessions waiting
            error = SmtpError(f"sending stopped by an internal error ({type(exc).__name__})")
            error.__cause__ = exc  # shown with --debug
            self.fatal = self.fatal or error
            self.halt()
        finally:
            if session is not None:
                session.quit()
            finished.set()

    def _connect(self) -> Session | None:
        """A logged-in session, trying again with backoff; None when stopped."""
        last = ""
        for attempt in range(self.policy.retries + 1):
            if attempt and self.stop.wait(self.policy.backoff * 2 ** (attempt - 1)):
                return None
            session = Session(self.server, self.password)
            try:
                session.open()
                return session
            except _Transient as exc:
                last = str(exc)
        raise SmtpError(
            f"{self.server}: cannot connect ({last}), also after {self.policy.retries} "
            "retries; check the host and port, then run the same command again"
        )

    def _attempt(self, session: Session, job: Job) -> bool:
        """Send one job; False when the session is no longer usable."""
        job.tries += 1
        counted = False

        def before_commit() -> None:
            nonlocal counted
            self.events.sending(job)
            counted = True

        try:
            data = job.path.read_bytes()
        except OSError as exc:
            self.events.outcome(
                job, "failed", f"cannot read {job.path}: {exc.strerror}", counted=False, final=True
            )
            self.queue.done()
            return True
        problem = self.verify(job, data) if self.verify is not None else ""
        if problem:
            self.events.outcome(job, "failed", problem, counted=False, final=True)
            self.queue.done()
            return True
        try:
            reply = session.send(job.sender, job.recipient, data, before_commit)
        except Dropped as exc:
            self._again(job, f"connection lost before the server answered ({exc})", counted)
            return False
        if 200 <= reply.code < 300:
            self.events.outcome(job, "sent", str(reply), counted=counted, final=True)
            self.queue.done()
        elif 400 <= reply.code < 500:
            self._again(job, str(reply), counted)
            return reply.code != 421  # 421: the server is closing this session
        else:
            self.events.outcome(job, "failed", str(reply), counted=counted, final=True)
            self.queue.done()
        return True

    def _again(self, job: Job, reply: str, counted: bool) -> None:
        final = job.tries > self.policy.retries
        self.events.outcome(job, "deferred", reply, counted=counted, final=final)
        if final:
            self.queue.done()
        else:
            self.queue.later(job, self.policy.backoff * 2 ** (job.tries - 1))
