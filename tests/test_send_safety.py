"""No accidental real send: the placeholder sender, confirming the count, and
`--test-to`, against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.errors import SendCancelled
from advocacy.formats.headers import header_block
from advocacy.send.run import SendOptions, send
from conftest import edit_file, run_cli
from mailserver import MailServer, make_campaign, office

ME = "me@example.org"
# The recipients' addresses, as a group's copied list would hold them.
REAL = {
    "de-mfa": "poststelle@auswaertiges-amt.example",
    "r2": "r2@example.org",
    "r3": "r3@example.org",
}


@pytest.fixture
def smtpd() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _campaign(tmp_path: Path, *, placeholder: bool = False) -> Path:
    de = office(1, id="de-mfa", organisation="Auswärtiges Amt", email=REAL["de-mfa"])
    return make_campaign(tmp_path / "campaign", [de, office(2), office(3)], placeholder=placeholder)


def _send(campaign: Path, out: Path, server: MailServer, *args: str) -> Any:
    return run_cli("send", str(campaign), "--out", str(out), "--smtp", server.url, *args)


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_real_send_with_the_placeholder_sender_is_refused(
    tmp_path: Path, smtpd: MailServer
) -> None:
    campaign = _campaign(tmp_path, placeholder=True)
    out = tmp_path / "out"
    result = _send(campaign, out, smtpd, "--no-dry-run", "--yes")  # --yes does not override it
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert "campaign.toml" in line and "placeholder = false" in line and "[sender]" in line
    assert smtpd.messages() == [] and smtpd.connections == 0
    assert not (out / "outbox.sqlite3").exists() and not (out / "outbox-test.sqlite3").exists()


def test_a_real_send_of_the_bundled_example_is_refused(tmp_path: Path, smtpd: MailServer) -> None:
    out = tmp_path / "out"
    result = run_cli(
        *("send", "--out", str(out), "--smtp", smtpd.url, "--no-dry-run", "--yes"), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "bundled example" in result.stderr and "advocacy init" in result.stderr
    assert smtpd.connections == 0 and not out.exists()


def test_a_first_send_to_many_in_a_pipe_needs_yes_or_to(tmp_path: Path, smtpd: MailServer) -> None:
    campaign = _campaign(tmp_path)
    out = tmp_path / "out"
    refused = _send(campaign, out, smtpd, "--no-dry-run", "--no-attach-pdf")
    assert refused.returncode == 2, refused.stderr
    (line,) = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert "--yes" in line and "--to" in line and "3 recipients" in line
    assert smtpd.messages() == [] and smtpd.connections == 0
    assert not (out / "outbox.sqlite3").exists()  # a refused send leaves no journal

    chosen = _send(campaign, out, smtpd, "--no-dry-run", "--no-attach-pdf", "--to", "de-mfa")
    assert chosen.returncode == 0, chosen.stderr
    assert [r.rcpt_tos for r in smtpd.messages()] == [[REAL["de-mfa"]]]
    # After the first real send, a rerun in a pipe (a script sending the rest) goes on.
    rest = _send(campaign, out, smtpd, "--no-dry-run", "--no-attach-pdf")
    assert rest.returncode == 0, rest.stderr
    assert sorted(r.rcpt_tos[0] for r in smtpd.messages()) == sorted(REAL.values())


def test_yes_sends_a_first_send_to_many_in_a_pipe(tmp_path: Path, smtpd: MailServer) -> None:
    campaign = _campaign(tmp_path)
    result = _send(campaign, tmp_path / "out", smtpd, "--no-dry-run", "--no-attach-pdf", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Sent 3 message(s)" in result.stdout
    assert sorted(r.rcpt_tos[0] for r in smtpd.messages()) == sorted(REAL.values())


def test_on_a_terminal_the_count_must_be_typed_back(tmp_path: Path, smtpd: MailServer) -> None:
    opened = open_campaign(_campaign(tmp_path))
    out = tmp_path / "out"
    options = SendOptions(out=out, smtp_url=smtpd.url, dry_run=False, attach_pdf=False, jobs=1)
    asked: list[str] = []

    def typing(answer: str) -> Any:
        def confirm(question: str) -> str:
            asked.append(question)
            return answer

        return confirm

    with pytest.raises(SendCancelled, match="not sent: the answer was '2', not 3"):
        send(opened, options, confirm=typing("2"))
    assert smtpd.messages() == [] and smtpd.connections == 0
    assert not (out / "outbox.sqlite3").exists()
    (question,) = asked
    assert "Send 3 message(s)" in question and "Type 3" in question
    assert f"de-mfa <{REAL['de-mfa']}>" in question and smtpd.url.split("//")[1] in question

    summary = send(opened, options, confirm=typing(" 3 "))
    assert len(summary.results["sent"]) == 3 and len(asked) == 2
    assert sorted(r.rcpt_tos[0] for r in smtpd.messages()) == sorted(REAL.values())
    # --yes: nothing is asked.
    again = send(opened, SendOptions(**{**vars(options), "yes": True}), confirm=typing("0"))
    assert again.already_sent and len(asked) == 2


def _on_a_terminal(args: list[str], typed: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a pseudo-terminal as standard input, `typed` already waiting on it."""
    main, secondary = pty.openpty()
    try:
        os.write(main, typed.encode())
        return subprocess.run(
            [sys.executable, "-m", "advocacy", *args],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )
    finally:
        os.close(secondary)
        os.close(main)


def test_the_cli_asks_on_a_terminal(tmp_path: Path, smtpd: MailServer) -> None:
    campaign, out = _campaign(tmp_path), tmp_path / "out"
    args = ["send", str(campaign), "--out", str(out), "--smtp", smtpd.url, "--no-attach-pdf"]
    wrong = _on_a_terminal([*args, "--no-dry-run"], "33\n")
    assert wrong.returncode == 1, wrong.stderr
    assert "Type 3 to send them" in wrong.stderr and "not sent" in wrong.stderr
    assert smtpd.messages() == []
    right = _on_a_terminal([*args, "--no-dry-run"], "3\n")
    assert right.returncode == 0, right.stderr
    assert "Sent 3 message(s)" in right.stdout and len(smtpd.messages()) == 3


def test_test_to_sends_every_letter_to_the_test_address_only(
    tmp_path: Path, smtpd: MailServer
) -> None:
    # The placeholder sender does not stop test copies: trying it out is what they are for.
    campaign = _campaign(tmp_path, placeholder=True)
    out = tmp_path / "out"
    result = _send(campaign, out, smtpd, "--test-to", ME)  # a pipe, no --yes: no question
    assert result.returncode == 0, result.stderr
    assert f"Sent 3 test copy(ies) to {ME}" in result.stdout
    received = smtpd.messages()
    assert len(received) == 3
    assert all(r.rcpt_tos == [ME] for r in received)
    by_subject = {}
    for item in received:
        message = _parse(item.data)
        assert [a.addr_spec for a in message["To"].addresses] == [ME]
        for address in REAL.values():
            assert address not in item.rcpt_tos
        by_subject[str(message["Subject"])] = item
    for rid, address in REAL.items():
        (eml,) = out.glob(f"{rid}.*.eml")
        real_data = eml.read_bytes()
        real = _parse(real_data)
        subject = f"[TEST for {rid} <{address}>] {real['Subject']}"
        data = by_subject[subject].data
        copy = _parse(data)
        assert copy["Message-ID"] != real["Message-ID"]
        for name in ("From", "Content-Language"):
            assert str(copy[name]) == str(real[name])
        assert copy["Date"].datetime >= real["Date"].datetime  # the time it was sent
        # Everything after the headers (text, HTML, the PDF) is the real letter's bytes.
        assert data[len(header_block(data)) :] == real_data[len(header_block(real_data)) :]
        (pdf,) = copy.iter_attachments()
        assert pdf.get_content() == eml.with_suffix(".pdf").read_bytes()
    # Journaled apart: the real journal does not exist, status has nothing sent.
    assert not (out / "outbox.sqlite3").exists()
    status = run_cli("status", "--out", str(out), "--json")
    assert status.returncode == 2 and "no send journal" in status.stderr

    edit_file(campaign / "campaign.toml", "placeholder = true", "placeholder = false")
    real_send = _send(campaign, out, smtpd, "--no-dry-run", "--yes")
    assert real_send.returncode == 0, real_send.stderr
    assert "Sent 3 message(s)" in real_send.stdout
    sent = smtpd.messages()[3:]
    assert sorted(r.rcpt_tos[0] for r in sent) == sorted(REAL.values())
    assert not any(str(_parse(r.data)["Subject"]).startswith("[TEST") for r in sent)
    counts = json.loads(run_cli("status", "--out", str(out), "--json").stdout)["counts"]
    assert counts["sent"] == 3


def test_test_to_with_limit_sends_that_many(tmp_path: Path, smtpd: MailServer) -> None:
    campaign, out = _campaign(tmp_path), tmp_path / "out"
    result = _send(campaign, out, smtpd, "--no-attach-pdf", "--test-to", ME, "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert "1 more letter(s) got no test copy" in result.stderr
    assert [r.rcpt_tos for r in smtpd.messages()] == [[ME], [ME]]
    again = _send(campaign, out, smtpd, "--no-attach-pdf", "--test-to", ME)
    assert again.returncode == 0, again.stderr  # test copies are sent every time
    assert len(smtpd.messages()) == 5 and len(smtpd.ids()) == 5


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("a@b.c\nBcc: x@y.z", "contains a line break"),
        ("not-an-address", "is not a valid email address"),
        ("Me <me@example.org>", "is not a valid email address"),
    ],
)
def test_test_to_must_be_one_valid_address(
    tmp_path: Path, smtpd: MailServer, address: str, expected: str
) -> None:
    campaign, out = _campaign(tmp_path, placeholder=True), tmp_path / "out"
    result = _send(campaign, out, smtpd, "--test-to", address)
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert "--test-to" in line and expected in line
    assert smtpd.connections == 0 and not out.exists()


def test_test_to_with_no_dry_run_is_refused(tmp_path: Path, smtpd: MailServer) -> None:
    campaign, out = _campaign(tmp_path), tmp_path / "out"
    result = _send(campaign, out, smtpd, "--test-to", ME, "--no-dry-run", "--yes")
    assert result.returncode == 2 and "leave out --no-dry-run" in _one_line(result.stderr)
    assert smtpd.connections == 0
