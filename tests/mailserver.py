"""A real aiosmtpd server on a free port of 127.0.0.1, run in a thread, for tests.

It records every message it accepts and can misbehave on purpose: answer 451
or 550, drop the connection in the middle of DATA, take a while to answer,
require STARTTLS and AUTH.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when its data had arrived

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Behaviour:
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_replies: Callable[[bytes, int], str | None] | None = None  # (data, attempt) -> reply
    drops: int = 0  # connections to drop during DATA, where drop_at says:
    # "data": instead of answering DATA (before any of the message: deferred, retried)
    # "mid": after the first line of the message (the client has handed it all over)
    # "end": after the final ".", before the reply (the message may have arrived)
    drop_at: str = "data"
    mail_reply: str = ""  # the reply to every MAIL FROM, e.g. "553 5.7.1 not owned by user"
    max_connections: int = 0  # more sessions at once are greeted with 421 and closed
    # messages a session takes; the next MAIL FROM gets 421 and the connection closes,
    # as Exim does past smtp_accept_max_per_connection
    per_connection: int = 0
    reply_delay: float = 0.0  # seconds between accepting a message and answering 250
    command_delay: float = 0.0  # seconds before each SMTP command is handled


class _Handler:
    def __init__(self, owner: MailServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.owner.behaviour.mail_reply:
            return self.owner.behaviour.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        with self.owner.lock:
            self.owner.mail_options.append(list(options))
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.owner.behaviour.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = bytes(envelope.original_content or b"")
        owner = self.owner
        behaviour = owner.behaviour
        # Counted per Message-ID: the sender rewrites Date on every try, so the bytes differ.
        key = str(Received("", [], data).message["Message-ID"] or data[:4000])
        with owner.lock:
            owner.attempts[key] += 1
            attempt = owner.attempts[key]
        if behaviour.data_replies is not None:
            reply = behaviour.data_replies(data, attempt)
            if reply:
                return reply
        owner.accept(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        if behaviour.reply_delay:
            await asyncio.sleep(behaviour.reply_delay)
        return "250 OK queued"


class _Authenticator:
    def __init__(self, owner: MailServer, user: str, password: str) -> None:
        self.owner, self.user, self.password = owner, user.encode(), password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        with self.owner.lock:
            self.owner.logins.append(mechanism)
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


class _SMTP(SMTP):
    owner: MailServer

    refused = False
    counted = False  # in owner.open_now
    taken = 0  # messages accepted over this connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        owner = self.owner
        if self.transport is None:  # a new connection, not STARTTLS on one
            with owner.lock:
                cap = owner.behaviour.max_connections
                if cap and owner.open_now >= cap:
                    owner.refused += 1
                    self.refused = True
                else:
                    owner.connections += 1
                    owner.open_now += 1
                    owner.peak = max(owner.peak, owner.open_now)
                    self.counted = True
            if self.refused:
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(b"421 4.7.0 Error: too many connections from 127.0.0.1\r\n")
                transport.close()
                return
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.refused:
            return
        if self.counted:
            self.counted = False
            with self.owner.lock:
                self.owner.open_now -= 1
        super().connection_lost(error)

    async def smtp_EHLO(self, hostname: str) -> None:
        with self.owner.lock:
            self.owner.helos.append(hostname)
        await super().smtp_EHLO(hostname)

    async def _delay(self) -> None:
        if self.owner.behaviour.command_delay:
            await asyncio.sleep(self.owner.behaviour.command_delay)

    async def smtp_MAIL(self, arg: str | None) -> None:
        await self._delay()
        cap = self.owner.behaviour.per_connection
        if cap and self.taken >= cap:
            await self.push("421 4.7.0 too many messages in this connection")
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        await self._delay()
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        await self._delay()
        owner = self.owner
        with owner.lock:
            drop = owner.behaviour.drops > 0 and bool(self.envelope and self.envelope.rcpt_tos)
            if drop:
                owner.behaviour.drops -= 1
        if drop:
            at = owner.behaviour.drop_at
            if at != "data":
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                line = await self._reader.readline()
                while at == "end" and line not in (b".\r\n", b""):
                    line = await self._reader.readline()
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_DATA(arg)
        self.taken += 1


class MailServer:
    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        auth: tuple[str, str] | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.tls, self.auth = tls, auth
        self.behaviour = behaviour or Behaviour()
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.attempts: Counter[str] = Counter()
        self.connections = 0  # sessions accepted
        self.open_now = self.peak = 0  # sessions open now, and at most at once
        self.refused = 0  # connections greeted with 421 (max_connections)
        self.logins: list[str] = []  # the mechanism of each AUTH tried
        self.helos: list[str] = []  # the name given in each EHLO
        self.mail_options: list[list[str]] = []  # the parameters of each MAIL FROM accepted
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    def accept(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def _protocol(self) -> _SMTP:
        protocol = _SMTP(
            _Handler(self),
            hostname="localhost",
            tls_context=self.tls,
            require_starttls=self.tls is not None,
            authenticator=_Authenticator(self, *self.auth) if self.auth else None,
            auth_required=self.auth is not None,
            auth_require_tls=True,
            loop=self.loop,
        )
        protocol.owner = self
        return protocol

    def start(self) -> MailServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(self._protocol, host="127.0.0.1", port=0), self.loop
        )
        self.server = future.result(10)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"smtp+plain://127.0.0.1:{self.port}"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def ids(self) -> Counter[str]:
        return Counter(r.message_id for r in self.messages())


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def make_campaign(
    root: Path,
    recipients: list[dict[str, Any]],
    *,
    languages: tuple[str, ...] = (),
    toml: Callable[[str], str] | None = None,
    placeholder: bool = False,
) -> Path:
    """A campaign folder like the bundled one with these recipients (and catalogs), its
    sender a group's own (not the example placeholder, which a real send refuses)."""
    import shutil

    import yaml

    from conftest import bundled_toml, replaced

    repo = Path(__file__).resolve().parent.parent
    root.mkdir(parents=True)
    shutil.copytree(repo / "templates", root / "templates")
    for language in languages:
        shutil.copytree(repo / "locales" / language, root / "locales" / language)
    text = bundled_toml()
    if not placeholder:
        text = replaced(text, "placeholder = true", "placeholder = false")
    (root / "campaign.toml").write_text(toml(text) if toml else text, encoding="utf-8")
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(
        yaml.safe_dump(recipients, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return root


def office(n: int, **extra: Any) -> dict[str, Any]:
    """An English-speaking recipient with an email address (quick to render)."""
    return {
        "id": f"r{n}",
        "country": "IE",
        "organisation": f"Office {n}",
        "languages": ["en"],
        "email": f"r{n}@example.org",
        "address": {"street_address": f"{n} Main Street", "city": "Dublin", "postal_code": "D02"},
        "tags": ["eu"],
        **extra,
    }
