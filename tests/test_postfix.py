"""`advocacy send` against a real Postfix 3.7 with STARTTLS and SASL (Dovecot), started
by the tests themselves (tests/postfix.py says how).

Nothing here skips: without the Debian packages postfix and dovecot-core (installed by
`scripts/install.sh --test`) or without root, the fixture fails with a HarnessError
that says so.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from mailserver import make_campaign, office
from postfix import Postfix, running
from test_envelope import NAMES

# Synthetic addresses at several domains, one per long, comma-bearing name.
ADDRESSES = [
    "buza@diplomatie.example.be",
    "desk.belarus@mfa.example.net",
    "ue@diplomatie.example.fr",
    "gd-eu@mfa.example.gr",
    "letters+office5@gov.example.org",
    "a.b.c@example.com",
]


@pytest.fixture
def postfix() -> Iterator[Postfix]:
    with running() as server:
        yield server


def _send(
    campaign: Path, out: Path, server: Postfix, password: str, *args: str
) -> tuple[int, str, str]:
    result = run_cli(
        "send", str(campaign), "--out", str(out), "--smtp", server.submission_url,
        "--cafile", str(server.cafile), "--no-dry-run", "--no-attach-pdf", "--yes", *args,
        env={"ADVOCACY_SMTP_PASSWORD": password}, timeout=60,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def _journal(out: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        return {k: (e, s) for k, e, s in db.execute("SELECT key, email, state FROM messages")}


def test_each_letter_arrives_once_at_the_address_its_entry_names(
    tmp_path: Path, postfix: Postfix
) -> None:
    recipients = [
        office(i, organisation=name, email=address)
        for i, (name, address) in enumerate(zip(NAMES, ADDRESSES, strict=True), start=1)
    ]
    campaign = make_campaign(tmp_path / "campaign", recipients)
    out = tmp_path / "out"
    code, stdout, stderr = _send(campaign, out, postfix, postfix.password)
    assert code == 0, stderr + postfix.log()
    assert f"Sent {len(recipients)} message(s)" in stdout

    delivered = postfix.wait_delivered(len(recipients))
    assert Counter(m.original_to for m in delivered) == Counter(ADDRESSES)  # each exactly once
    ids = {p.name.split(".")[0]: p for p in out.glob("*.eml")}
    for item in delivered:
        message = item.message
        assert item.delivered_to == item.original_to
        (to,) = message["To"].addresses
        assert to.addr_spec == item.original_to
        entry = next(r for r in recipients if r["email"] == item.original_to)
        assert " ".join(to.display_name.split()) == entry["organisation"]
        sent = (ids[entry["id"]]).read_bytes()
        assert f"Message-ID: {message['Message-ID']}".encode() in sent
    assert _journal(out) == {r["id"]: (r["email"], "sent") for r in recipients}
    assert not postfix.sasl_failures()


def test_a_wrong_password_fails_once_with_one_line(tmp_path: Path, postfix: Postfix) -> None:
    campaign = make_campaign(tmp_path / "campaign", [office(i) for i in range(1, 4)])
    out = tmp_path / "out"
    code, stdout, stderr = _send(campaign, out, postfix, "wrong-" + postfix.password)
    assert code == 1, stdout + stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "refused the login" in lines[0] and postfix.password not in stderr
    assert not postfix.messages()
    failures = postfix.sasl_failures()
    assert failures, postfix.log()  # the harness saw the refused login at all
    # Issue 20: exactly one SASL failure, and the session ended with QUIT.
    assert len(failures) == 1, "\n".join(failures)
    assert "(AUTH PLAIN)" in lines[0]
    assert re.search(r"disconnect from .* quit=1", postfix.log()), postfix.log()


def test_a_from_the_server_refuses_stops_the_batch_within_three_messages(
    tmp_path: Path, postfix: Postfix
) -> None:
    sender = "letters@campaign.example.org"
    postfix.reject_sender(sender, "553 5.7.1 not owned by user campaigner")
    campaign = make_campaign(tmp_path / "campaign", [office(i) for i in range(1, 9)])
    out = tmp_path / "out"
    code, stdout, stderr = _send(campaign, out, postfix, postfix.password, "--from", sender)
    assert code == 1, stdout + stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert "553 5.7.1" in line and "sending stopped" in line, line
    states = Counter(state for _, state in _journal(out).values())
    assert states["failed"] <= 3 and states["pending"] >= 5 and not states["sent"]
    rejects = [line for line in postfix.log().splitlines() if "NOQUEUE: reject" in line]
    assert 1 <= len(rejects) <= 3, "\n".join(rejects)
    assert not postfix.messages()


def test_a_cap_of_two_connections_still_delivers_everything(
    tmp_path: Path, postfix: Postfix
) -> None:
    postfix.set(smtpd_client_connection_count_limit="2")
    recipients = [office(i) for i in range(1, 9)]
    campaign = make_campaign(tmp_path / "campaign", recipients)
    out = tmp_path / "out"
    code, _, stderr = _send(campaign, out, postfix, postfix.password, "--connections", "4")
    assert code == 0, stderr + postfix.log()
    delivered = postfix.wait_delivered(len(recipients))
    assert Counter(m.original_to for m in delivered) == Counter(r["email"] for r in recipients)
    assert set(_journal(out).values()) == {(r["email"], "sent") for r in recipients}
    assert "Connection concurrency limit exceeded" in postfix.log()  # met, and it went on
