"""What a real mail server sees of `advocacy send` (issue 20), against aiosmtpd on
127.0.0.1: one login for a wrong password, a message lost after its final "." left
unknown, a batch stopped when every message is refused, a pool that fits a server's
connection cap, sessions reused as Postfix's client does (and a server's cap of
messages a connection learnt from its 421), and the EHLO name, SIZE= and Date a mail
admin looks at."""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

import pytest

from advocacy.send.dispatch import Dispatcher, Job, Policy
from advocacy.send.smtp import parse_url
from conftest import run_cli
from mailserver import Behaviour, MailServer, make_campaign, office, self_signed, server_tls
from test_send import Servers, _ids, _journal, _offices, _send


@pytest.mark.parametrize("drop_at", ["mid", "end"])
def test_a_message_whose_connection_ends_after_its_data_is_unknown_and_never_resent(
    tmp_path: Path, smtp_servers: Servers, drop_at: str
) -> None:
    campaign = _offices(tmp_path, 3)
    server = smtp_servers(behaviour=Behaviour(drops=1, drop_at=drop_at))
    out = tmp_path / "out"
    args = ("--no-dry-run", "--backoff", "0.05", "--connections", "1")
    result = _send(campaign, out, server, *args)
    assert result.returncode == 1, result.stderr
    journal = _journal(out)
    assert journal["r1"][:2] == ("unknown", 1)  # tried once: not again within the run
    assert journal["r2"][0] == journal["r3"][0] == "sent"
    assert sorted(r.rcpt_tos[0] for r in server.messages()) == ["r2@example.org", "r3@example.org"]
    message_id = _ids(out)["r1"]
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "unknown state" in error[0] and "--retry-unknown" in error[0]
    assert message_id in result.stderr  # what the admin greps the server's log for
    shown = run_cli("status", "--out", str(out))
    assert f"r1 <r1@example.org> (Message-ID {message_id}): unknown" in shown.stdout

    again = _send(campaign, out, server, *args)  # a rerun does not send it either
    assert again.returncode == 0, again.stderr
    assert "unknown state (r1)" in again.stderr
    assert len(server.messages()) == 2 and _journal(out)["r1"][:2] == ("unknown", 1)


def test_a_drop_before_the_data_is_deferred_then_sent_on_a_new_connection(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 2)
    server = smtp_servers(behaviour=Behaviour(drops=1, drop_at="data"))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--backoff", "0.05", "--connections", "1")
    assert result.returncode == 0, result.stderr
    assert sorted(server.ids().values()) == [1, 1]
    assert _journal(out)["r1"][:2] == ("sent", 2)


def test_a_wrong_password_is_tried_once_on_one_connection(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    cert, key = self_signed(tmp_path)
    server = smtp_servers(
        tls=server_tls(cert, key), auth=("campaigner", "right-" + os.urandom(4).hex())
    )
    campaign = _offices(tmp_path, 6)
    result = run_cli(
        "send", str(campaign), "--out", str(tmp_path / "out"),
        "--smtp", f"smtp://campaigner@127.0.0.1:{server.port}", "--cafile", str(cert),
        "--no-dry-run", "--yes", "--connections", "3",
        env={"ADVOCACY_SMTP_PASSWORD": "wrong"},
    )  # fmt: skip
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "refused the login of 'campaigner' (AUTH PLAIN): 535" in line
    assert server.logins == ["PLAIN"] and server.connections == 1
    assert server.messages() == []


def test_a_refused_sender_stops_the_batch_at_the_first_message(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 8)
    server = smtp_servers(behaviour=Behaviour(mail_reply="553 5.7.1 <x>: sender not owned by user"))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--connections", "4")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "refuses the sender <" in line and "MAIL FROM" in line and "553 5.7.1" in line
    states = sorted(state for state, _, _ in _journal(out).values())
    assert states == ["failed"] + ["pending"] * 7  # the rest wait, untried
    assert server.connections == 1


def test_the_same_5xx_to_the_first_three_messages_stops_the_batch(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 8)
    policy = "554 5.7.1 Relay access denied for this login"
    refused = {f"r{n}@example.org": policy for n in range(9)}
    server = smtp_servers(behaviour=Behaviour(rcpt_replies=refused))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--connections", "4")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "refused the first 3 messages with the same reply (554 5.7.1" in line
    states = sorted(state for state, _, _ in _journal(out).values())
    assert states == ["failed"] * 3 + ["pending"] * 5


def test_different_refusals_do_not_stop_the_batch(tmp_path: Path, smtp_servers: Servers) -> None:
    campaign = _offices(tmp_path, 5)
    replies = {f"r{n}@example.org": f"550 5.1.1 <r{n}@example.org>: no user" for n in (1, 2, 3)}
    server = smtp_servers(behaviour=Behaviour(rcpt_replies=replies))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--connections", "1")
    assert result.returncode == 1 and "3 of 5 message(s) not sent" in result.stderr
    assert len(server.messages()) == 2


def test_a_server_capping_connections_gets_everything_over_fewer(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 12)
    server = smtp_servers(behaviour=Behaviour(max_connections=2, reply_delay=0.05))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--connections", "4", "--backoff", "0.05")
    assert result.returncode == 0, result.stderr
    assert sorted(server.ids().values()) == [1] * 12
    assert server.peak == 2 and server.refused >= 1  # it tried a third, then went on with 2


def test_the_pool_starts_with_one_session_and_grows(tmp_path: Path, smtp_servers: Servers) -> None:
    campaign = _offices(tmp_path, 10)
    server = smtp_servers(behaviour=Behaviour(reply_delay=0.05))
    result = _send(campaign, tmp_path / "out", server, "--no-dry-run", "--connections", "3")
    assert result.returncode == 0, result.stderr
    assert len(server.messages()) == 10
    assert server.connections == 3 and server.peak == 3


def test_what_a_mail_admin_sees_helo_size_and_the_date_of_sending(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 2)
    server = smtp_servers()
    out = tmp_path / "out"
    assert _send(campaign, out, server).returncode == 0  # a dry run renders the letters
    files = {p: p.read_bytes() for p in out.glob("*.eml")}
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = _send(campaign, out, server, "--no-dry-run", "--connections", "1")
    assert result.returncode == 0, result.stderr
    assert server.helos == ["example.org"]  # the sender's domain; never [127.0.0.1]
    assert {p: p.read_bytes() for p in out.glob("*.eml")} == files  # the files unchanged
    ids = _ids(out)
    for received, options in zip(server.messages(), server.mail_options, strict=True):
        message = received.message
        assert message["Date"].datetime >= before  # sent now, not when rendered
        assert str(message["Message-ID"]) in ids.values()
        (size,) = [int(o.split("=")[1]) for o in options if o.upper().startswith("SIZE=")]
        assert size >= len(received.data)

    named = make_campaign(
        tmp_path / "named", [office(1)], toml=lambda t: t + '\n[smtp]\nhelo = "mail.example.net"\n'
    )
    assert _send(named, tmp_path / "out2", server, "--no-dry-run").returncode == 0
    assert server.helos[-1] == "mail.example.net"


def _dkim_campaign(tmp_path: Path, key: Path) -> Path:
    table = f'\n[smtp]\ndkim_key = "{key}"\ndkim_selector = "letters"\n'
    return make_campaign(tmp_path / "campaign", [office(1), office(2)], toml=lambda t: t + table)


def test_dkim_signatures_verify_against_the_public_key(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = tmp_path / "dkim.pem"
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o644)
    campaign = _dkim_campaign(tmp_path, key)
    server = smtp_servers()
    exposed = _send(campaign, tmp_path / "out", server, "--no-dry-run")
    assert exposed.returncode == 2 and not server.messages()
    (line,) = [line for line in exposed.stderr.splitlines() if line.startswith("error:")]
    assert "can be read by others" in line and f"chmod 600 {key}" in line

    key.chmod(0o600)
    result = _send(campaign, tmp_path / "out", server, "--no-dry-run")
    assert result.returncode == 0, result.stderr
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    assert len(server.messages()) == 2
    for received in server.messages():
        assert received.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(received.data, dnsfunc=dns)
        tampered = received.data.replace(b"Office 1", b"Office 9").replace(b"Office 2", b"Office 9")
        assert not dkim.verify(tampered, dnsfunc=dns)
    assert set(asked) == {b"letters._domainkey.example.org."}


def _jobs(tmp_path: Path, count: int) -> list[Job]:
    from test_envelope import _built

    tmp_path.mkdir(exist_ok=True)
    jobs = []
    for n in range(count):
        path = tmp_path / f"{n}.eml"
        path.write_bytes(_built(f"Office {n}", f"o{n}@example.org"))
        jobs.append(Job(f"o{n:03d}", "l@example.org", f"o{n}@example.org", path))
    return jobs


def _deliver(server: MailServer, jobs: list[Job], policy: Policy) -> list[tuple[str, str, str]]:
    from test_envelope import _Events

    events = _Events()
    Dispatcher(parse_url(server.url), None, policy, events).run(jobs)
    return events.outcomes


def test_a_session_is_reused_for_every_message_until_its_time_is_up(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    # As Postfix's own client: no cap on messages a connection, 300 s at most.
    server = smtp_servers()
    outcomes = _deliver(server, _jobs(tmp_path / "a", 150), Policy(connections=1))
    assert [state for _, state, _ in outcomes] == ["sent"] * 150
    assert server.connections == 1
    slow = smtp_servers(behaviour=Behaviour(reply_delay=0.05))
    outcomes = _deliver(slow, _jobs(tmp_path / "b", 8), Policy(connections=1, reuse_seconds=0.12))
    assert [state for _, state, _ in outcomes] == ["sent"] * 8
    assert 3 <= slow.connections <= 4  # a new session each ~0.12 s, with 2-3 messages


def test_a_servers_cap_of_messages_a_connection_is_learnt_once(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    # Exim answers 421 to the MAIL FROM past smtp_accept_max_per_connection.
    server = smtp_servers(behaviour=Behaviour(per_connection=5))
    policy = Policy(connections=1, backoff=0.01)
    outcomes = _deliver(server, _jobs(tmp_path, 23), policy)
    assert sorted(server.ids().values()) == [1] * 23  # each once
    deferred = [reply for _, state, reply in outcomes if state == "deferred"]
    assert len(deferred) == 1 and deferred[0].startswith("421"), deferred
    assert server.connections == 5  # 5 + 5 + 5 + 5 + 3, the first ended by the 421
