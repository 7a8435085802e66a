"""The delivery loop: letters sent to a real SMTP server, their bounces and replies
read back from a real Dovecot over IMAPS, the paper log, the report and the journal."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from advocacy.track.bounces import read_bounce
from advocacy.track.mailboxes import PASSWORD_ENV
from conftest import on_a_terminal, run_cli
from imapserver import ImapServer
from imapserver import running as imap_running
from mailserver import MailServer, make_campaign, office

BOUNCES = Path(__file__).parent / "fixtures" / "bounces"
SENT = dt.date.today()  # the day the module's letters are sent


def day(n: int) -> str:
    """The day `n` days after the letters were sent (dates in the mails and the log)."""
    return (SENT + dt.timedelta(days=n)).isoformat()


TODAY = {"ADVOCACY_TODAY": day(49)}  # a fixed clock, seven weeks after sending


def send_five(root: Path) -> tuple[Path, Path, dict[str, str]]:
    """A campaign of five offices whose letters were sent to a real aiosmtpd:
    (campaign, output folder, recipient -> Message-ID as the server received it)."""
    campaign = make_campaign(root / "campaign", [office(i) for i in range(1, 6)])
    out = root / "out"
    server = MailServer().start()
    try:
        result = run_cli(
            "send", str(campaign), "--out", str(out), "--smtp", server.url,
            "--no-attach-pdf", "--yes", "--no-dry-run",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        ids = {r.rcpt_tos[0].split("@")[0]: r.message_id for r in server.messages()}
        subjects = {
            r.rcpt_tos[0].split("@")[0]: str(r.message["Subject"]) for r in server.messages()
        }
    finally:
        server.stop()
    assert sorted(ids) == ["r1", "r2", "r3", "r4", "r5"]
    assert subjects["r3"].endswith("[Ref. BY23-r3]")
    return campaign, out, ids


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    return send_five(tmp_path_factory.mktemp("loop"))


def _copy(sent: tuple[Path, Path, dict[str, str]], tmp_path: Path) -> Path:
    """The sent output folder, copied: each test writes its own history."""
    out = tmp_path / "out"
    shutil.copytree(sent[1], out)
    return out


def _bounce(name: str, message_id: str, address: str) -> bytes:
    """A fixture bounce about our letter: its original's Message-ID and address swapped
    in, and its own Date the day after the letters were sent (the fixtures were made on
    2 December 2026; a bounce cannot come before its letter)."""
    data = (BOUNCES / name).read_bytes()
    originals = {
        "postfix-unknown-user.eml": (b"<letter-1@example.org>", b"nosuchuser@local.advocacy.test"),
        "undeliverable-text.eml": (b"<letter-4@example.org>", b"consul@embassy.example"),
    }[name]
    data = data.replace(originals[0], message_id.encode()).replace(originals[1], address.encode())
    when = dt.datetime.combine(SENT + dt.timedelta(days=1), dt.time(8), dt.UTC)
    date = b"Date: " + format_datetime(when).encode()
    return re.sub(rb"(?m)^Date: [^\r\n]*", lambda _: date, data, count=1)


def _mail(subject: str, body: str, *, when: dt.datetime, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Desk Officer <desk@office.example>")
    msg["To"] = "letters@example.org"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid("client", "office.example")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def _mails(ids: dict[str, str]) -> tuple[list[bytes], list[bytes]]:
    """(the 4 that are about our letters, the 3 unrelated), as clients and servers write them."""
    on = dt.datetime.combine(SENT + dt.timedelta(days=12), dt.time(9, 30), dt.UTC)
    quoted = "> Dear Sir or Madam,\n> We are writing to you on behalf of ...\n"
    ours = [
        _bounce("postfix-unknown-user.eml", ids["r1"], "r1@example.org"),
        _bounce("undeliverable-text.eml", "<not-ours@elsewhere.example>", "r2@example.org"),
        _mail(
            "Re: Political prisoners in Belarus [Ref. BY23-r3]",
            f"Thank you for your letter; the minister will answer.\n\n{quoted}",
            when=on,
            In_Reply_To=ids["r3"],
            References=ids["r3"],
        ),
        # A client that dropped In-Reply-To and References but kept the subject.
        _mail(
            "AW: Political prisoners in Belarus [Ref. BY23-r4]",
            f"Wir haben Ihr Schreiben erhalten.\n\n{quoted}",
            when=on + dt.timedelta(days=2),
        ),
    ]
    unrelated = [
        _mail("Newsletter December", "News of the month.", when=on),
        _mail("Re: lunch", "Yes, at one.", when=on, In_Reply_To="<other@somewhere.example>"),
        # An out-of-office is not an answer, even threaded to our letter.
        _mail(
            "Automatic reply: Political prisoners in Belarus [Ref. BY23-r5]",
            "I am out of the office until January.",
            when=on,
            In_Reply_To=ids["r5"],
            Auto_Submitted="auto-replied",
        ),
    ]
    return ours, unrelated


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    with imap_running() as server:
        yield server


def _filled(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, imap: ImapServer
) -> tuple[Path, Path, list[bytes]]:
    """(campaign, a copied output folder, the unrelated mails) with all 7 mails in INBOX."""
    ours, unrelated = _mails(sent[2])
    for data in ours + unrelated:
        imap.append(data)
    return sent[0], _copy(sent, tmp_path), unrelated


def _inbox(campaign: Path, out: Path, server: ImapServer, *args: str) -> dict[str, object]:
    result = run_cli(
        "inbox", str(campaign), "--out", str(out), "--imap", server.url,
        "--cafile", str(server.cafile), "--json", *args,
        env={"ADVOCACY_IMAP_PASSWORD": server.password},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_each_fixture_bounce_gives_its_address_code_and_original() -> None:
    found = {path.name: read_bounce(path.read_bytes()) for path in sorted(BOUNCES.glob("*.eml"))}
    got = {name: (b.addresses, b.code, b.original_id, b.how) for name, b in found.items() if b}
    assert got == {
        "exchange-2003.eml": (
            ("office@ministry.example",), "5.1.1", "<letter-3@example.org>", "exchange"
        ),
        "postfix-relay-refused.eml": (
            ("office@refuse.advocacy.test",), "5.7.1", "<letter-2@example.org>", "dsn"
        ),
        "postfix-unknown-user.eml": (
            ("nosuchuser@local.advocacy.test",), "5.1.1", "<letter-1@example.org>", "dsn"
        ),
        "undeliverable-text.eml": (
            ("consul@embassy.example",), "5.2.1", "<letter-4@example.org>", "text"
        ),
    }  # fmt: skip
    relay, exchange = found["postfix-relay-refused.eml"], found["exchange-2003.eml"]
    assert relay is not None and "Relay access denied" in relay.diagnostic
    assert exchange is not None
    assert exchange.diagnostic.startswith("The e-mail account does not exist")


def test_inbox_records_two_bounces_and_two_replies_once_and_moves_nothing(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, imap: ImapServer
) -> None:
    campaign, out, _ = _filled(sent, tmp_path, imap)
    before = imap.messages()

    first = _inbox(campaign, out, imap)
    bounced = {b["id"]: b["code"] for b in first["bounced"]}  # type: ignore[attr-defined]
    days = {b["id"]: b["on"][:10] for b in first["bounced"]}  # type: ignore[attr-defined]
    assert days == {"r1": day(1), "r2": day(1)}
    replied = {r["id"]: r["on"][:10] for r in first["replied"]}  # type: ignore[attr-defined]
    assert bounced == {"r1": "5.1.1", "r2": "5.2.1"}
    assert replied == {"r3": day(12), "r4": day(14)}
    assert first["unrelated"] == 3 and first["read"] == 7

    again = _inbox(campaign, out, imap)
    assert again["bounced"] == [] and again["replied"] == [] and again["seen_before"] == 7
    assert imap.messages() == before  # every mail where it was, not even marked seen
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        states = db.execute("SELECT recipient, state FROM history WHERE state != 'sent'").fetchall()
    assert sorted(states) == [
        ("r1", "bounced"),
        ("r2", "bounced"),
        ("r3", "replied"),
        ("r4", "replied"),
    ]
    stored = sorted(p.name.split("-")[0] for p in (out / "replies").iterdir())
    assert stored == ["r3", "r4"]

    status = run_cli("status", str(campaign), "--out", str(out))
    assert status.returncode == 0, status.stderr
    assert (
        "bounced 2" in status.stdout and "replied 2" in status.stdout and "sent 1" in status.stdout
    )


def test_move_to_moves_only_what_was_recorded(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, imap: ImapServer
) -> None:
    campaign, out, unrelated = _filled(sent, tmp_path, imap)
    result = _inbox(campaign, out, imap, "--move-to", "Answered")
    assert result["moved"] == 4
    assert len(imap.messages("Answered")) == 4
    left = [message_from_bytes(data)["Subject"] for _, data in imap.messages()]
    assert sorted(left) == sorted(message_from_bytes(d)["Subject"] for d in unrelated)


def test_inbox_from_an_mbox_and_a_wrong_password(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, imap: ImapServer
) -> None:
    campaign, _, ids = sent
    out = _copy(sent, tmp_path)
    ours, unrelated = _mails(ids)
    mbox = tmp_path / "inbox.mbox"
    import mailbox

    box = mailbox.mbox(mbox)
    for data in ours + unrelated:
        box.add(data)
    box.close()
    result = run_cli("inbox", str(campaign), "--out", str(out), "--mbox", str(mbox), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (len(data["bounced"]), len(data["replied"]), data["unrelated"]) == (2, 2, 3)

    wrong = run_cli(
        "inbox", str(campaign), "--out", str(out), "--imap", imap.url, "--cafile",
        str(imap.cafile), env={"ADVOCACY_IMAP_PASSWORD": "not-it"},
    )  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.count("\n") == 1 and "refused" in wrong.stderr, wrong.stderr
    assert "not-it" not in wrong.stderr


def test_log_and_csv_move_letters_to_delivered_or_replied(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    campaign, _, _ = sent
    out = _copy(sent, tmp_path)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 a scanned answer")
    one = run_cli(
        "log", "delivered", "r1", "--campaign", str(campaign), "--out", str(out),
        "--on", day(8), "--by", "Anna K.", "--how", "hand", "--note", "embassy reception",
        env=TODAY,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    reply = run_cli(
        "log", "reply", "r2", "--campaign", str(campaign), "--out", str(out),
        "--on", day(18), "--file", str(scan), env=TODAY,
    )  # fmt: skip
    assert reply.returncode == 0, reply.stderr
    sheet = tmp_path / "deliveries.csv"
    sheet.write_text(
        "id,reference,name,event,on,by,how,note\n"
        f"r3,BY23-r3,Office 3,posted,{day(2)},,post,registered\n"
        f"r4,,Office 4,delivered,{day(9)},Jan,hand,\n"
        "r5,BY23-r5,Office 5,,,,,\n",  # not filled in yet
        encoding="utf-8",
    )
    imported = run_cli(
        "log", "--campaign", str(campaign), "--out", str(out), "--csv", str(sheet), env=TODAY
    )
    assert imported.returncode == 0, imported.stderr
    assert "recorded 2" in imported.stdout
    twice = run_cli(
        "log", "--campaign", str(campaign), "--out", str(out), "--csv", str(sheet), env=TODAY
    )
    assert "recorded 0" in twice.stdout
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        rows = db.execute(
            "SELECT recipient, state, on_date, how, by_whom, file FROM history "
            "WHERE state != 'sent' ORDER BY recipient"
        ).fetchall()
    assert [r[:5] for r in rows] == [
        ("r1", "delivered", day(8), "hand", "Anna K."),
        ("r2", "replied", day(18), "post", ""),
        ("r3", "posted", day(2), "post", ""),
        ("r4", "delivered", day(9), "hand", "Jan"),
    ]
    assert (out / rows[1][5]).read_bytes() == scan.read_bytes()


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (
            f"r1,BY23-r1,x,delivered,{day(1)},,,\nr2,,y,delivered,10.12.2026,,,\n",
            "line 3: field 'on'",
        ),
        (f"r1,,x,delivered,{day(1)},,,\nr9,,y,posted,{day(1)},,,\n", "line 3: field 'id'"),
        (f"r1,BY23-r2,x,delivered,{day(1)},,,\n", "line 2: field 'reference'"),
        (f"r1,,x,handed,{day(1)},,,\n", "line 2: field 'event'"),
        (f"r1,,x,delivered,{day(60)},,,\n", "line 2: field 'on'"),
    ],
)
def test_a_bad_csv_row_is_one_line_and_nothing_of_the_file_is_applied(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, rows: str, said: str
) -> None:
    campaign, _, _ = sent
    out = _copy(sent, tmp_path)
    sheet = tmp_path / "bad.csv"
    sheet.write_text("id,reference,name,event,on,by,how,note\n" + rows, encoding="utf-8")
    result = run_cli(
        "log", "--campaign", str(campaign), "--out", str(out), "--csv", str(sheet), env=TODAY
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(sheet) in result.stderr and said in result.stderr, result.stderr
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "history" in tables:  # (the file was refused before the history was opened)
            assert (
                db.execute("SELECT count(*) FROM history WHERE state != 'sent'").fetchone()[0] == 0
            )


def test_an_unknown_csv_column_is_named(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    campaign, _, _ = sent
    sheet = tmp_path / "extra.csv"
    sheet.write_text(f"id,event,on,signature\nr1,delivered,{day(1)},x\n", encoding="utf-8")
    out = _copy(sent, tmp_path)
    result = run_cli(
        "log", "--campaign", str(campaign), "--out", str(out), "--csv", str(sheet), env=TODAY
    )
    assert result.returncode == 2 and "column 'signature' is not known" in result.stderr


def test_a_journal_of_the_current_release_migrates_with_nothing_lost(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    campaign, _, _ = sent
    out = _copy(sent, tmp_path)

    def dump() -> dict[str, list[tuple[object, ...]]]:
        with sqlite3.connect(out / "outbox.sqlite3") as db:
            return {
                table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("messages", "events", "meta")
            }

    with sqlite3.connect(out / "outbox.sqlite3") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "history" not in tables  # as `send` of this release left it
    before = dump()
    result = run_cli("status", str(campaign), "--out", str(out))
    assert result.returncode == 0, result.stderr
    after = dump()
    assert after["messages"] == before["messages"] and after["events"] == before["events"]
    assert set(before["meta"]) <= set(after["meta"])
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        sent_rows = db.execute("SELECT recipient FROM history WHERE state = 'sent'").fetchall()
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM history")
    assert sorted(r[0] for r in sent_rows) == ["r1", "r2", "r3", "r4", "r5"]
    assert "sent 5" in result.stdout


def test_a_maildir_is_read_and_only_the_recorded_mails_move(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    import mailbox

    campaign, _, ids = sent
    out = _copy(sent, tmp_path)
    ours, unrelated = _mails(ids)
    box = mailbox.Maildir(tmp_path / "Maildir")
    for data in ours + unrelated:
        box.add(data)
    names = set(box.keys())
    read = run_cli(
        "inbox", str(campaign), "--out", str(out), "--maildir", str(tmp_path / "Maildir"), "--json"
    )
    assert read.returncode == 0, read.stderr
    assert set(mailbox.Maildir(tmp_path / "Maildir").keys()) == names  # nothing moved
    moved = run_cli(
        "inbox", str(campaign), "--out", str(_copy(sent, tmp_path / "again")),
        "--maildir", str(tmp_path / "Maildir"), "--move-to", "Answered", "--json",
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    after = mailbox.Maildir(tmp_path / "Maildir")
    assert len(after) == 3 and len(after.get_folder("Answered")) == 4


def test_imap_with_starttls_reads_the_same_and_a_server_without_it_gets_no_password(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    """imap:// upgrades with STARTTLS before it logs in; a server that does not offer
    STARTTLS is refused before the password goes, with one line, and told LOGOUT."""
    with imap_running("starttls") as server:
        campaign, out, _ = _filled(sent, tmp_path / "tls", server)
        result = run_cli(
            "inbox", str(campaign), "--out", str(out), "--imap", server.starttls_url,
            "--cafile", str(server.cafile), "--json",
            env={"ADVOCACY_IMAP_PASSWORD": server.password},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert (len(data["bounced"]), len(data["replied"]), data["unrelated"]) == (2, 2, 3)
        logins = [line for line in server.log().splitlines() if "Login: user=<campaigner>" in line]
        assert logins and all("TLS" in line for line in logins), logins  # never in clear
    with imap_running("cleartext") as server:
        out = _copy(sent, tmp_path / "clear")
        secret = server.password
        refused = run_cli(
            "inbox", str(sent[0]), "--out", str(out), "--imap", server.starttls_url,
            env={"ADVOCACY_IMAP_PASSWORD": secret},
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        (line,) = refused.stderr.strip().splitlines()
        assert "does not offer STARTTLS" in line and "imaps://" in line
        assert secret not in refused.stderr + refused.stdout
        deadline = time.monotonic() + 10  # the login process logs as it ends
        while "Aborted login by logging out" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        said = server.log()
        assert "Aborted login by logging out (no auth attempts" in said, said
        assert "auth failed" not in said and "Login: user=" not in said


def test_the_imap_password_is_asked_at_the_terminal_and_written_nowhere(
    sent: tuple[Path, Path, dict[str, str]], tmp_path: Path, imap: ImapServer
) -> None:
    campaign, out, _ = _filled(sent, tmp_path, imap)
    args = ["inbox", str(campaign), "--out", str(out), "--imap", imap.url, "--cafile"]
    args.append(str(imap.cafile))
    code, shown = on_a_terminal(args, imap.password, unset=PASSWORD_ENV)
    assert code == 0, shown
    assert "IMAP password for campaigner@127.0.0.1" in shown
    assert "2 bounced, 2 replied" in shown
    assert imap.password not in shown  # typed without echo
    for path in out.rglob("*"):
        if path.is_file():
            assert imap.password.encode() not in path.read_bytes(), path
    code, shown = on_a_terminal(args, "not-" + imap.password, unset=PASSWORD_ENV)
    assert code == 1, shown
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)  # a terminal gets colour
    errors = [line for line in plain.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "refused" in errors[0], shown
    assert "Traceback" not in shown and "not-" + imap.password not in shown
