"""`advocacy send` and `advocacy status` against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from advocacy.errors import BadInput
from advocacy.formats.headers import read_head, shown_headers
from advocacy.send import dispatch, smtp
from conftest import MINI_RECIPIENTS, REPO, edit_file, run_cli
from mailserver import Behaviour, MailServer, make_campaign, office, self_signed, server_tls

Servers = Callable[..., MailServer]


def _send(
    campaign: Path, out: Path, server: MailServer, *args: str
) -> subprocess.CompletedProcess[str]:
    # As a script sends: --yes, since a pipe cannot confirm (test_send_safety.py).
    return run_cli(
        "send",
        str(campaign),
        "--out",
        str(out),
        "--smtp",
        server.url,
        "--no-attach-pdf",
        "--yes",
        *args,
    )


def _ids(out: Path) -> dict[str, str]:
    """recipient id -> Message-ID of its .eml file."""
    return {
        p.name.split(".")[0]: shown_headers(read_head(p))["Message-ID"] for p in out.glob("*.eml")
    }


def _status(out: Path, *args: str) -> dict[str, Any]:
    result = run_cli("status", "--out", str(out), "--json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _journal(out: Path) -> dict[str, tuple[str, int, str]]:
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        rows = db.execute("SELECT key, state, attempts, reply FROM messages").fetchall()
    return {key: (state, attempts, reply) for key, state, attempts, reply in rows}


def _offices(tmp_path: Path, n: int) -> Path:
    return make_campaign(tmp_path / "campaign", [office(i) for i in range(1, n + 1)])


def test_letters_arrive_once_with_headers_parts_and_pdf(
    mini_campaign: Path, tmp_path: Path, smtp_servers: Servers
) -> None:
    listing = mini_campaign / "recipients" / "list.yaml"
    listing.write_text(MINI_RECIPIENTS, encoding="utf-8")
    edit_file(listing, "  tags: [eu, mfa]", "  email: de@example.org\n  tags: [eu, mfa]")
    edit_file(listing, "  tags: [partner]", "  email: us@example.org\n  tags: [partner]")
    edit_file(mini_campaign / "campaign.toml", "placeholder = true", "placeholder = false")
    server = smtp_servers()
    out = tmp_path / "out"
    result = run_cli(
        *("send", str(mini_campaign), "--out", str(out), "--smtp", server.url, "--no-dry-run"),
        "--yes",
    )
    assert result.returncode == 0, result.stderr
    assert "Sent 2 message(s)" in result.stdout
    received = {r.rcpt_tos[0]: r for r in server.messages()}
    assert sorted(received) == ["de@example.org", "us@example.org"]
    closes = {"de-mfa.en": "Yours sincerely,", "us-dos.en": "Sincerely,"}  # American usage
    for address, stem in (("de@example.org", "de-mfa.en"), ("us@example.org", "us-dos.en")):
        item = received[address]
        assert item.mail_from == "letters@example.org"
        message = item.message
        assert (
            str(message["Message-ID"])
            == shown_headers(read_head(out / f"{stem}.eml"))["Message-ID"]
        )
        assert message["To"].addresses[0].addr_spec == address
        assert "Political prisoners in Belarus" in str(message["Subject"])
        assert message["Date"] and str(message["Content-Language"]) == "en"
        assert closes[stem] in message.get_body(("plain",)).get_content()
        assert 'style="' in message.get_body(("html",)).get_content()
        (pdf,) = message.iter_attachments()
        assert pdf.get_filename() == f"{stem}.pdf"
        sent = hashlib.sha256(pdf.get_content()).hexdigest()
        assert sent == hashlib.sha256((out / f"{stem}.pdf").read_bytes()).hexdigest()

    again = run_cli(
        "send", str(mini_campaign), "--out", str(out), "--smtp", server.url, "--no-dry-run"
    )
    assert again.returncode == 0, again.stderr
    assert "Sent 0 message(s)" in again.stdout and "2 already sent" in again.stdout
    assert len(server.messages()) == 2
    status = _status(out, str(mini_campaign))
    assert status["counts"]["sent"] == 2 and not status["problems"]
    assert all(row["reply"].startswith("250") and row["sent_at"] for row in status["messages"])


def test_dry_run_shows_the_plan_and_first_message_and_sends_nothing(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 3)
    server = smtp_servers()
    out = tmp_path / "out"
    result = _send(campaign, out, server)
    assert result.returncode == 0, result.stderr
    for expected in ("r1", "r1@example.org", "en", "KB", "First message:", "Subject:", "Dry run"):
        assert expected in result.stdout
    assert "Dear Sir or Madam," in result.stdout
    assert server.messages() == [] and server.connections == 0
    assert not (out / "outbox.sqlite3").exists()
    data = json.loads(_send(campaign, out, server, "--json").stdout)
    assert data["dry_run"] and [p["key"] for p in data["planned"]] == ["r1", "r2", "r3"]
    assert all(p["attachments"] == [] for p in data["planned"])


def test_sessions_are_reused_over_parallel_connections(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 8)
    out = tmp_path / "out"
    one = smtp_servers()
    result = _send(campaign, out, one, "--no-dry-run", "--connections", "1", "--limit", "4")
    assert result.returncode == 0, result.stderr
    assert len(one.messages()) == 4 and one.connections == 1
    two = smtp_servers()
    result = _send(campaign, out, two, "--no-dry-run", "--connections", "2")
    assert result.returncode == 0, result.stderr
    assert len(two.messages()) == 4 and two.connections == 2  # the other 4, two per session
    assert sorted(r.rcpt_tos[0] for r in one.messages() + two.messages()) == sorted(
        f"r{n}@example.org" for n in range(1, 9)
    )


def test_4xx_is_retried_and_arrives_once(tmp_path: Path, smtp_servers: Servers) -> None:
    campaign = _offices(tmp_path, 5)

    def greylist(data: bytes, attempt: int) -> str | None:
        first_time = attempt == 1 and (b"r2@example.org" in data or b"r4@example.org" in data)
        return "451 4.7.1 Greylisted, try again later" if first_time else None

    server = smtp_servers(behaviour=Behaviour(data_replies=greylist))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--backoff", "0.05")
    assert result.returncode == 0, result.stderr
    assert sorted(server.ids().values()) == [1] * 5
    assert set(server.ids()) == set(_ids(out).values())
    journal = _journal(out)
    assert journal["r2"][:2] == ("sent", 2) and journal["r1"][:2] == ("sent", 1)


def test_5xx_fails_that_letter_and_the_batch_goes_on(tmp_path: Path, smtp_servers: Servers) -> None:
    campaign = _offices(tmp_path, 4)
    server = smtp_servers(
        behaviour=Behaviour(rcpt_replies={"r3@example.org": "550 5.1.1 No such user"})
    )
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "1 of 4 message(s) not sent" in result.stderr and "550 5.1.1" in result.stderr
    assert sorted(r.rcpt_tos[0] for r in server.messages()) == [
        "r1@example.org",
        "r2@example.org",
        "r4@example.org",
    ]
    status = _status(out)
    assert status["counts"]["sent"] == 3 and status["counts"]["failed"] == 1
    (problem,) = status["problems"]
    assert problem["key"] == "r3" and problem["reply"] == "550 5.1.1 No such user"
    text = run_cli("status", "--out", str(out))
    assert "r3 <r3@example.org>: failed" in text.stdout and "550 5.1.1" in text.stdout
    csv_out = run_cli("status", "--out", str(out), "--csv").stdout.splitlines()
    assert csv_out[0].startswith("key,kind,recipient") and len(csv_out) == 5
    assert any(line.startswith("r3,letter,r3,") and ",failed," in line for line in csv_out)


def test_connection_dropped_mid_data_reconnects_and_completes(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 5)
    server = smtp_servers(behaviour=Behaviour(drops=2))
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--backoff", "0.05", "--connections", "1")
    assert result.returncode == 0, result.stderr
    assert sorted(server.ids().values()) == [1] * 5
    assert server.connections == 3  # the first, then one new session after each drop
    assert server.behaviour.drops == 0


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# The command as in a terminal, where Ctrl-C works: a test worker's children may
# inherit SIGINT ignored or blocked from whatever ran in that worker before.
_AS_IN_A_TERMINAL = (
    "import runpy, signal\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "runpy.run_module('advocacy', run_name='__main__')\n"
)


def _popen_send(campaign: Path, out: Path, server: MailServer) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-c", _AS_IN_A_TERMINAL, "send", str(campaign), "--out", str(out)),
            *(
                "--smtp",
                server.url,
                "--no-attach-pdf",
                "--no-dry-run",
                "--yes",
                "--connections",
                "1",
            ),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_midway_then_rerun_sends_each_letter_once(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 8)
    out = tmp_path / "out"
    slow = smtp_servers(behaviour=Behaviour(reply_delay=0.4))  # accepts, then answers late
    process = _popen_send(campaign, out, slow)
    try:
        _wait_for(lambda: len(slow.messages()) >= 3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    first = slow.ids()
    assert 3 <= len(first) < 8

    fast = smtp_servers()
    result = _send(campaign, out, fast, "--no-dry-run")
    assert result.returncode == 0, result.stderr
    journal = _journal(out)
    unknown = [key for key, (state, _, _) in journal.items() if state == "sending"]
    assert len(unknown) <= 1
    letters = _ids(out)
    total = first + fast.ids()
    for rid, message_id in letters.items():
        if rid in unknown:
            assert total[message_id] <= 1  # in flight when killed: maybe arrived, never twice
            assert "unknown state" in result.stderr and rid in result.stderr
        else:
            assert total[message_id] == 1, rid
    if unknown:
        assert _status(out)["counts"]["unknown"] == 1


def test_ctrl_c_finishes_the_message_in_flight_and_exits_130(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 8)
    out = tmp_path / "out"
    slow = smtp_servers(behaviour=Behaviour(reply_delay=0.4))
    process = _popen_send(campaign, out, slow)
    try:
        _wait_for(lambda: len(slow.messages()) >= 2)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    journal = _journal(out)
    sent = [key for key, (state, _, _) in journal.items() if state == "sent"]
    assert "sending" not in {state for state, _, _ in journal.values()}
    assert len(sent) == len(slow.messages())  # the one in flight was finished and journaled

    fast = smtp_servers()
    result = _send(campaign, out, fast, "--no-dry-run")
    assert result.returncode == 0, result.stderr
    assert sorted((slow.ids() + fast.ids()).values()) == [1] * 8


def test_unknown_and_changed_letters_wait_for_their_flags(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 3)
    out = tmp_path / "out"
    server = smtp_servers()
    assert _send(campaign, out, server, "--no-dry-run").returncode == 0
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        db.execute("UPDATE messages SET state = 'sending' WHERE key = 'r1'")
    listing = campaign / "recipients" / "list.yaml"
    edit_file(listing, "Office 2", "Office Two")

    result = _send(campaign, out, server, "--no-dry-run")
    assert result.returncode == 0, result.stderr
    assert len(server.messages()) == 3
    assert "unknown state (r1)" in result.stderr and "changed after they were sent (r2)" in (
        result.stderr
    )
    assert _status(out)["counts"] == {
        "sent": 2,
        "pending": 0,
        "deferred": 0,
        "failed": 0,
        "unknown": 1,
        "sending": 0,
        "not sent yet": 0,
    }

    result = _send(campaign, out, server, "--no-dry-run", "--retry-unknown", "--resend-changed")
    assert result.returncode == 0, result.stderr
    latest = [r.message for r in server.messages()[3:]]
    assert sorted(m["To"].addresses[0].addr_spec for m in latest) == [
        "r1@example.org",
        "r2@example.org",
    ]
    assert any("Office Two" in str(m["To"]) for m in latest)
    assert {state for state, _, _ in _journal(out).values()} == {"sent"}


def test_starttls_and_auth_password_from_the_environment_is_written_nowhere(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    password = "s3cret-Pa55word-" + os.urandom(6).hex()
    cert, key = self_signed(tmp_path)
    server = smtp_servers(tls=server_tls(cert, key), auth=("campaigner", password))
    campaign = _offices(tmp_path, 2)
    out = tmp_path / "out"
    url = f"smtp://campaigner@127.0.0.1:{server.port}"
    env = {"ADVOCACY_SMTP_PASSWORD": password}

    untrusted = run_cli(
        *("send", str(campaign), "--out", str(out), "--smtp", url, "--no-dry-run", "--yes"),
        env=env,
    )
    assert untrusted.returncode == 1
    assert "not trusted" in untrusted.stderr and "--cafile" in untrusted.stderr
    wrong = run_cli(
        "--debug",
        *("send", str(campaign), "--out", str(out), "--smtp", url, "--cafile", str(cert)),
        "--no-dry-run",
        "--yes",
        env={"ADVOCACY_SMTP_PASSWORD": "wrong-" + password},
    )
    assert wrong.returncode == 1 and "refused the login of 'campaigner'" in wrong.stderr
    assert password not in wrong.stdout + wrong.stderr
    assert server.messages() == []

    good = run_cli(
        *("send", str(campaign), "--out", str(out), "--smtp", url, "--cafile", str(cert)),
        "--no-dry-run",
        "--yes",
        env=env,
    )
    assert good.returncode == 0, good.stderr
    assert len(server.messages()) == 2
    status = run_cli("status", "--out", str(out), "--csv")
    outputs = [untrusted, wrong, good, status]
    assert not any(password in r.stdout + r.stderr for r in outputs)
    secret = password.encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "outbox.sqlite3" for p in written)
    assert [p for p in written if secret in p.read_bytes()] == []


def test_relay_sends_each_group_exactly_its_letters(
    mini_campaign: Path, tmp_path: Path, smtp_servers: Servers
) -> None:
    import shutil

    shutil.copytree(REPO / "locales" / "de", mini_campaign / "locales" / "de")
    po = mini_campaign / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        po.read_text(encoding="utf-8")
        + '\nmsgid "Dear friends at %(name)s,"\nmsgstr "Liebe Freundinnen und Freunde von '
        '%(name)s,"\n',
        encoding="utf-8",
    )
    edit_file(mini_campaign / "campaign.toml", "placeholder = true", "placeholder = false")
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "match,name,email,language\n"
        "de-mfa,Berlin Belarusians,berlin@example.org,de\n"
        "tag:partner,Washington Group,dc@example.org,en\n"
        "us-dos,Washington Group,dc@example.org,en\n"
        "tag:eu us-dos,Everyone,all@example.org,pl\n",
        encoding="utf-8",
    )
    server = smtp_servers()
    out = tmp_path / "out"
    result = run_cli(
        *("send", str(mini_campaign), "--out", str(out), "--smtp", server.url),
        *("--via", str(groups), "--no-dry-run", "--yes"),
    )
    assert result.returncode == 0, result.stderr
    # German catalog incomplete for the note (one string of five): the note falls back.
    assert "cover note has no complete German translation" in result.stderr
    assert "cover note has no complete Polish translation" in result.stderr
    by_group = {r.rcpt_tos[0]: r.message for r in server.messages()}
    assert sorted(by_group) == ["all@example.org", "berlin@example.org", "dc@example.org"]
    expected = {
        "berlin@example.org": ["de-mfa.de.pdf"],
        "dc@example.org": ["us-dos.en.pdf"],
        "all@example.org": ["de-mfa.de.pdf", "us-dos.en.pdf"],
    }
    for address, message in by_group.items():
        attached = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
        assert sorted(attached) == expected[address]
        for name, data in attached.items():
            assert data == (out / name).read_bytes()
        text = message.get_body(("plain",)).get_content()
        assert "Letters to print and deliver" in str(message["Subject"])
        assert "Could you print them and deliver them" in text
        assert all(name in text for name in expected[address])
    berlin = by_group["berlin@example.org"].get_body(("plain",)).get_content()
    berlin = berlin.replace("\r\n", "\n")  # canonical text/plain lines are CRLF
    assert berlin.startswith("Dear friends at Berlin Belarusians,\n\n")
    again = run_cli(
        *("send", str(mini_campaign), "--out", str(out), "--smtp", server.url),
        *("--via", str(groups), "--no-dry-run", "--yes"),
    )
    assert again.returncode == 0 and "3 already sent" in again.stdout
    assert len(server.messages()) == 3


def test_relay_note_in_the_group_language_when_translated(tmp_path: Path) -> None:
    from advocacy.campaign.model import load_campaign
    from advocacy.formats.mime import sender_address
    from advocacy.send.relay import Group, RelayWriter

    campaign_dir = make_campaign(tmp_path / "c", [office(1)], languages=("de",))
    po = campaign_dir / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    translations = {
        "Letters to print and deliver: %(title)s": "Briefe zum Ausdrucken: %(title)s",
        "Dear friends at %(name)s,": "Liebe Freunde von %(name)s,",
        "With best regards,": "Mit besten Grüßen",
    }
    from advocacy.send.relay import _template_ids

    campaign = load_campaign(campaign_dir)
    entries = "".join(
        f'\nmsgid "{m}"\nmsgstr "{translations.get(m, "DE: " + m)}"\n'
        for m in sorted(_template_ids(campaign))
    )
    po.write_text(po.read_text(encoding="utf-8") + entries, encoding="utf-8")
    pdf = tmp_path / "r1.en.pdf"
    pdf.write_bytes(b"%PDF-1.7 test")
    writer = RelayWriter(load_campaign(campaign_dir), sender_address(campaign), "")
    group = Group("Gruppe", "gruppe@example.org", "de-AT", ["r1"], 2, "groups.csv: line 2")
    message = writer.write(group, campaign.recipients, {"r1": pdf}, tmp_path / "out")
    assert message.language == "de" and not writer.warnings
    text = message.path.read_bytes()
    from email import message_from_bytes
    from email.policy import default

    parsed = message_from_bytes(text, policy=default)
    assert str(parsed["Subject"]).startswith("Briefe zum Ausdrucken:")
    body = parsed.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "Liebe Freunde von Gruppe," in body and "Mit besten Grüßen" in body


def test_bad_relay_list_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    campaign = _offices(tmp_path, 1)
    groups = tmp_path / "groups.csv"
    groups.write_text("match,name,email,language\nnobody,G,g@example.org,de\n", encoding="utf-8")
    result = run_cli("send", str(campaign), "--out", str(tmp_path / "o"), "--via", str(groups))
    assert result.returncode == 2
    assert (
        "groups.csv: line 2: column 'match'" in result.stderr and "Traceback" not in result.stderr
    )


def test_smtp_url_rules() -> None:
    server = smtp.parse_url("smtp://user%40org@mail.example.org")
    assert (server.security, server.port, server.username) == ("starttls", 587, "user@org")
    assert smtp.parse_url("smtps://mail.example.org").port == 465
    assert str(smtp.parse_url("smtp+plain://localhost:2525")) == "smtp+plain://localhost:2525"
    with pytest.raises(BadInput, match="only to a server on this machine"):
        smtp.parse_url("smtp+plain://192.0.2.1:25")
    with pytest.raises(BadInput) as caught:
        smtp.parse_url("smtp://user:hunter2@mail.example.org")
    assert "hunter2" not in str(caught.value) and "ADVOCACY_SMTP_PASSWORD" in str(caught.value)
    with pytest.raises(BadInput, match="must start with"):
        smtp.parse_url("http://mail.example.org")
    assert "hunter2" not in repr(smtp.Secret("hunter2")) + str(smtp.Secret("hunter2"))
    assert smtp.parse_rate("30/min") == 0.5 and smtp.parse_rate("2/s") == 2.0
    assert smtp.parse_rate("120") == 2.0 and smtp.parse_rate("3600/h") == 1.0
    with pytest.raises(BadInput, match="--rate"):
        smtp.parse_rate("fast")


def test_token_bucket_paces_after_a_burst() -> None:
    now = [0.0]
    bucket = dispatch.TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    now[0] = 10.0  # refilled, but never above the burst
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.5]


def test_rate_limits_a_real_run(tmp_path: Path, smtp_servers: Servers) -> None:
    campaign = _offices(tmp_path, 5)
    server = smtp_servers()
    out = tmp_path / "out"
    result = _send(campaign, out, server, "--no-dry-run", "--rate", "5/s", "--connections", "1")
    assert result.returncode == 0, result.stderr
    arrivals = [received.at for received in server.messages()]
    assert len(arrivals) == 5
    # As the server saw them: one at once, then one every 0.2 s, so the five span at
    # least 0.8 s (without the limit they arrive a few milliseconds apart). The span,
    # not each gap: a busy machine may hold one message back and let the next follow
    # it closely, but it cannot bring the last one forward.
    span = arrivals[-1] - arrivals[0]
    assert span >= 4 * 0.2 * 0.75, [
        later - earlier for earlier, later in itertools.pairwise(arrivals)
    ]


def test_send_without_a_server_or_password_is_one_line(
    tmp_path: Path, smtp_servers: Servers
) -> None:
    campaign = _offices(tmp_path, 1)
    result = run_cli("send", str(campaign), "--out", str(tmp_path / "o"), "--no-dry-run")
    assert result.returncode == 2 and "no mail server" in result.stderr
    server = smtp_servers()
    result = run_cli(
        *("send", str(campaign), "--out", str(tmp_path / "o"), "--send"),
        *("--smtp", f"smtp+plain://someone@127.0.0.1:{server.port}"),
        env={"ADVOCACY_SMTP_PASSWORD": ""},
    )
    assert result.returncode == 2 and "ADVOCACY_SMTP_PASSWORD" in result.stderr
    assert server.messages() == []
    refused = run_cli(
        "send",
        str(campaign),
        "--out",
        str(tmp_path / "o"),
        "--send",
        "--smtp",
        "smtp+plain://127.0.0.1:1",
        "--retries",
        "1",
        "--backoff",
        "0.01",
    )
    assert refused.returncode == 1 and "cannot connect" in refused.stderr
    assert _journal(tmp_path / "o")["r1"][0] == "pending"


def test_send_opens_the_campaign_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from advocacy.campaign import discovery
    from advocacy.send.run import SendOptions, send

    opened = discovery.open_campaign(_offices(tmp_path, 2))
    loads: list[Path] = []

    def counted(root: Path, *, bundled: bool = False) -> Any:
        loads.append(root)
        raise AssertionError("the campaign was loaded again")

    for name, module in list(sys.modules.items()):
        if name.startswith("advocacy") and hasattr(module, "load_campaign"):
            monkeypatch.setattr(module, "load_campaign", counted)
    summary = send(opened, SendOptions(out=tmp_path / "out", attach_pdf=False, jobs=1))
    assert [item.key for item in summary.planned] == ["r1", "r2"] and loads == []


def test_send_reads_each_letter_and_the_manifest_once_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render check hashes every file and lists the folder's letters; the plan
    takes both from it instead of reading 1000 files and manifest.json again."""
    from collections import Counter

    from advocacy.campaign import discovery
    from advocacy.render import manifest
    from advocacy.send.run import SendOptions, send

    campaign = discovery.open_campaign(_offices(tmp_path, 3))
    options = SendOptions(out=tmp_path / "out", attach_pdf=False, jobs=1)
    assert len(send(campaign, options).planned) == 3  # rendered now: nothing to check
    hashed: Counter[str] = Counter()
    loads: list[Path] = []
    original_hash, original_load = manifest.sha256_file, manifest.load
    monkeypatch.setattr(
        manifest, "sha256_file", lambda p: hashed.update([p.name]) or original_hash(p)
    )
    monkeypatch.setattr(manifest, "load", lambda out: loads.append(out) or original_load(out))
    summary = send(campaign, options)
    assert [item.key for item in summary.planned] == ["r1", "r2", "r3"]
    assert hashed == Counter({"r1.en.eml": 1, "r2.en.eml": 1, "r3.en.eml": 1})
    assert len(loads) == 1
    # A letter edited on disk is still found out, and rendered again before it is sent.
    eml = tmp_path / "out" / "r2.en.eml"
    eml.write_bytes(eml.read_bytes().replace(b"\r\n\r\n", b"\r\n\r\nP.S. ", 1))
    again = send(campaign, options)
    assert [item.key for item in again.planned] == ["r1", "r2", "r3"]
    assert b"P.S." not in eml.read_bytes()
