"""Trust boundaries of issue 22: what a campaign folder from a stranger reaches through
links, a campaign's own CA file, a damaged send journal, a huge co-signatory list, and
a Python whose email module can inject headers.

Every case ends the same way: one line naming the file, a non-zero exit, no content of
a file outside the campaign on screen or on disk, and nothing sent (twice or at all).
"""

from __future__ import annotations

import contextlib
import email.policy
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from advocacy.campaign.model import MAX_COSIGNATORIES
from advocacy.errors import OutputError
from advocacy.runtime import ALLOW_ENV, email_fix_missing
from advocacy.send.journal import JOURNAL, Entry, Journal
from conftest import REPO, edit_file, files_in, run_cli
from mailserver import MailServer, make_campaign, office, self_signed, server_tls

SECRET = "TOP-SECRET-CONTENT"
Setup = Callable[[Path], None]


def _secret_beside(root: Path, name: str = "secret.txt", text: str = SECRET) -> Path:
    path = root.parent / name
    path.write_text(text, encoding="utf-8")
    return path


def _templates_linked_up(root: Path) -> None:
    """`templates` -> `..`: the letter template then sits in the campaign itself, and
    its `{% include %}` reaches the file beside the campaign."""
    _secret_beside(root)
    shutil.rmtree(root / "templates")
    (root / "templates").symlink_to("..")
    (root / "evil.html.j2").write_text('{% include "secret.txt" %}', encoding="utf-8")
    toml = root / "campaign.toml"
    edit_file(
        toml, 'letter_template = "letter.html.j2"', f'letter_template = "{root.name}/evil.html.j2"'
    )


def _locale_linked_out(root: Path) -> None:
    elsewhere = root.parent / "elsewhere"
    shutil.copytree(REPO / "locales" / "de", elsewhere)
    po = elsewhere / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace("Auswärtiges", SECRET), encoding="utf-8")
    (root / "locales").mkdir()
    (root / "locales" / "de").symlink_to(elsewhere)


def _review_linked_out(root: Path) -> None:
    shutil.copytree(REPO / "locales" / "de", root / "locales" / "de")
    secret = _secret_beside(root, "profile.toml", f'state = "{SECRET}"\n')
    (root / "locales" / "de" / "review.toml").unlink()
    (root / "locales" / "de" / "review.toml").symlink_to(secret)


def _recipients_linked_out(root: Path) -> None:
    elsewhere = root.parent / "lists"
    elsewhere.mkdir()
    (elsewhere / "list.yaml").write_text(
        f"- id: x\n  country: DE\n  organisation: {SECRET}\n  languages: [en]\n", encoding="utf-8"
    )
    shutil.rmtree(root / "recipients")
    (root / "recipients").symlink_to(elsewhere)


def _campaign_file_linked_out(root: Path) -> None:
    secret = _secret_beside(
        root, "other.toml", (root / "campaign.toml").read_text() + f"# {SECRET}\n"
    )
    (root / "campaign.toml").unlink()
    (root / "campaign.toml").symlink_to(secret)


def _template_linked_to_a_device(root: Path) -> None:
    """A link to /dev/zero must be refused before it is read (it never ends)."""
    (root / "templates" / "zero.html").symlink_to("/dev/zero")
    letter = root / "templates" / "letter.html.j2"
    letter.write_text(letter.read_text(encoding="utf-8") + "{% include 'zero.html' %}")


def _cosignatories(count: int) -> Setup:
    def setup(root: Path) -> None:
        rows = ["name,role,organisation"] + [f"Person {i},member,Group {i}" for i in range(count)]
        (root / "cosign.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        edit_file(
            root / "campaign.toml",
            '# cosignatories_csv = "cosignatories.csv"',
            'cosignatories_csv = "cosign.csv"',
        )

    return setup


# case -> (setup, what the one line says, exit code)
RENDER_CASES: dict[str, tuple[Setup, list[str], int]] = {
    "templates folder linked to ..": (_templates_linked_up, ["templates: is a link", "outside"], 2),
    "locales/<lang> linked out": (_locale_linked_out, ["locales/de: is a link", "outside"], 2),
    "review.toml linked out": (_review_linked_out, ["locales/de/review.toml: is a link"], 2),
    "recipients folder linked out": (_recipients_linked_out, ["recipients", "outside"], 2),
    "campaign.toml linked out": (_campaign_file_linked_out, ["campaign.toml: is a link"], 2),
    "template linked to /dev/zero": (_template_linked_to_a_device, ["zero.html"], 2),
    "200,000 co-signatories": (
        _cosignatories(200_000),
        ["cosign.csv", f"more than {MAX_COSIGNATORIES:,} co-signatories"],
        2,
    ),
}


def _one_line(result: subprocess.CompletedProcess[str], code: int, expected: list[str]) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0], (part, lines[0])
    return lines[0]


@pytest.mark.parametrize("case", sorted(RENDER_CASES))
@pytest.mark.parametrize("command", ["render", "preview"])
def test_a_campaign_reaches_nothing_outside_its_folder(
    case: str, command: str, mini_campaign: Path, tmp_path: Path
) -> None:
    setup, expected, code = RENDER_CASES[case]
    setup(mini_campaign)
    out = tmp_path / "out"
    args = ["--out", str(out)] if command == "render" else ["--to", "de-mfa"]
    result = run_cli(command, str(mini_campaign), *args, timeout=60)
    _one_line(result, code, expected)
    assert SECRET not in result.stdout + result.stderr
    assert files_in(out) == []


def test_the_limit_of_co_signatories_itself_renders(mini_campaign: Path, tmp_path: Path) -> None:
    """The limit is a documented number, not a mistake: a list that reaches it loads."""
    _cosignatories(MAX_COSIGNATORIES)(mini_campaign)
    result = run_cli("recipients", "check", str(mini_campaign))
    assert "co-signatories" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- the Python runtime --------------------------------------------------------


def test_a_python_without_the_email_fix_is_named_and_refused(mini_campaign: Path) -> None:
    """CVE-2024-6923: the fix added Policy.verify_generated_headers; a Python without it
    is refused at start-up (one line naming its version), unless the user accepts it."""
    assert email_fix_missing(object(), "3.11.7").startswith(
        "Python 3.11.7 lacks the fix for CVE-2024-6923"
    )
    env = {k: v for k, v in os.environ.items() if k != ALLOW_ENV}

    def check(python_code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", python_code, "recipients", "check", str(mini_campaign)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )

    run = "from advocacy.cli.app import main; main()"
    fixed = hasattr(email.policy.default, "verify_generated_headers")
    if fixed:  # this Python has the fix: it runs, and one without it is made by taking it out
        assert "CVE-2024-6923" not in check(run).stderr
        unfix = "import email._policybase as b; del b.Policy.verify_generated_headers; "
        result = check(unfix + run)
    else:
        result = check(run)
    version = ".".join(str(part) for part in sys.version_info[:3])
    line = _one_line(result, 1, [f"Python {version} lacks the fix for CVE-2024-6923", ALLOW_ENV])
    assert "3.11.10, 3.12.5 or 3.13" in line
    accepted = run_cli("recipients", "check", str(mini_campaign), env={ALLOW_ENV: "1"})
    assert "CVE-2024-6923" not in accepted.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "advocacy", "--help"], capture_output=True, text=True, env=env
    )
    assert help_text.returncode == 0


# -- sending: the CA file, and a damaged or lost journal -----------------------


def _send(campaign: Path, out: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        *("send", str(campaign), "--out", str(out), "--smtp", url, "--no-attach-pdf", "--yes"),
        *args,
        timeout=120,
    )


def test_a_campaigns_own_ca_file_is_never_trusted(
    tmp_path: Path, smtp_servers: Callable[..., MailServer]
) -> None:
    """A campaign from a stranger names a CA that signed the stranger's server; the user
    gives --smtp. The login and letters must not go to a server that CA vouches for."""
    cert, key = self_signed(tmp_path)
    server = smtp_servers(tls=server_tls(cert, key))
    campaign = make_campaign(
        tmp_path / "campaign",
        [office(1), office(2)],
        toml=lambda text: text + '\n[smtp]\ncafile = "ca.pem"\n',
    )
    shutil.copy(cert, campaign / "ca.pem")
    out = tmp_path / "out"
    url = f"smtp://127.0.0.1:{server.port}"
    result = _send(campaign, out, url, "--no-dry-run")
    line = _one_line(result, 1, ["not trusted", "--cafile"])
    assert "smtp.cafile is ignored" in result.stderr
    assert "BEGIN CERTIFICATE" not in line
    assert server.messages() == []
    # The same certificate given by the user is trusted: the letters go, once each.
    good = _send(campaign, out, url, "--no-dry-run", "--cafile", str(cert))
    assert good.returncode == 0, good.stderr
    assert sorted(server.ids().values()) == [1, 1]


def _truncate(journal: Path) -> None:
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) // 2])


def _garbage(journal: Path) -> None:
    journal.write_bytes(b"\x89PNG not a journal\n" + bytes(range(256)) * 40)


def _empty(journal: Path) -> None:
    journal.write_bytes(b"")


def _missing(journal: Path) -> None:
    journal.unlink()


def _foreign(journal: Path) -> None:
    """An older copy from another folder: a journal, but not this folder's."""
    other = journal.parent.parent / "other"
    other.mkdir()
    Journal.open(other).close()
    shutil.copy(other / JOURNAL, journal)


# case -> (damage done to the journal, what the one line says, what `status` does)
JOURNAL_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "truncated": (_truncate, "is damaged", "error"),
    "garbage": (_garbage, "is not a send journal (not an SQLite database)", "error"),
    "0 bytes": (_empty, "is empty (0 bytes)", "error"),
    "missing after a send": (_missing, "is missing, but 2 message(s) were sent", "error"),
    "another folder's": (_foreign, "is not the journal the 2 message(s)", "reads"),
}


@pytest.mark.parametrize("case", sorted(JOURNAL_CASES))
def test_a_damaged_or_lost_journal_sends_nothing_again(
    case: str, tmp_path: Path, smtp_servers: Callable[..., MailServer]
) -> None:
    damage, expected, status = JOURNAL_CASES[case]
    server = smtp_servers()
    campaign = make_campaign(tmp_path / "campaign", [office(1), office(2)])
    out = tmp_path / "out"
    first = _send(campaign, out, server.url, "--no-dry-run")
    assert first.returncode == 0, first.stderr
    assert len(server.messages()) == 2
    for leftover in out.glob(f"{JOURNAL}-*"):
        leftover.unlink()
    damage(out / JOURNAL)

    for args in ((), ("--no-dry-run",)):  # the plan and the real send alike
        again = _send(campaign, out, server.url, *args)
        _one_line(again, 1, [f"{out / JOURNAL}: {expected}", "--journal-lost"])
    assert len(server.messages()) == 2  # nothing sent twice
    shown = run_cli("status", "--out", str(out))
    assert "Traceback" not in shown.stderr
    if status == "error":
        _one_line(shown, shown.returncode or 1, [str(out / JOURNAL)])
        assert shown.returncode != 0

    # The user accepts the loss: the letters go again, once, and a damaged journal is
    # kept aside (evidence of what was sent), not deleted.
    lost = _send(campaign, out, server.url, "--no-dry-run", "--journal-lost")
    assert lost.returncode == 0, lost.stderr
    assert sorted(server.ids().values()) == [2, 2]
    if case != "missing after a send":
        assert list(out.glob(f"{JOURNAL}.lost-*")), files_in(out)
    rerun = _send(campaign, out, server.url, "--no-dry-run")
    assert rerun.returncode == 0, rerun.stderr
    assert len(server.messages()) == 4


def _mount(what: list[str], where: Path) -> None:
    subprocess.run(["mount", *what, str(where)], check=True, capture_output=True)


def test_a_read_only_journal_is_one_line_and_sends_nothing(
    tmp_path: Path, smtp_servers: Callable[..., MailServer]
) -> None:
    server = smtp_servers()
    campaign = make_campaign(tmp_path / "campaign", [office(1), office(2)])
    out = tmp_path / "out"
    assert _send(campaign, out, server.url, "--no-dry-run", "--to", "r1").returncode == 0
    journal = out / JOURNAL
    bound = os.geteuid() == 0  # root writes a 0444 file: make the file itself read-only
    if bound:
        _mount(["--bind", str(journal)], journal)
        _mount(["-o", "remount,bind,ro"], journal)
    else:
        journal.chmod(0o444)
    try:
        result = _send(campaign, out, server.url, "--no-dry-run")
        _one_line(result, 1, [str(journal), "read-only"])
        assert len(server.messages()) == 1
        shown = run_cli("status", "--out", str(out))  # reading needs no writing
        assert shown.returncode == 0, shown.stderr
        assert "1 sent" in shown.stdout
    finally:
        if bound:
            subprocess.run(["umount", str(journal)], check=True)
    assert _send(campaign, out, server.url, "--no-dry-run").returncode == 0
    assert sorted(server.ids().values()) == [1, 1]


@contextlib.contextmanager
def _small_disk(where: Path) -> Iterator[Path]:
    """A real file system of 16 MB (a tmpfs: the tests run as root here)."""
    where.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=16m", "tmpfs"], where)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _fill(disk: Path, leave: int = 0) -> Path:
    """Fill the disk, then free `leave` bytes of it again."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for block in (65536, 512):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * block)
        handle.truncate(max(0, handle.tell() - leave))
    return filler


def test_a_disk_filling_during_queueing_is_one_line_and_sends_nothing_twice(
    tmp_path: Path, smtp_servers: Callable[..., MailServer]
) -> None:
    """The disk fills at some step of a real send: reading the journal, recording the
    campaign, queueing the letters. Whichever step it is (the free space left grows run
    by run), the run ends in one line and sends nothing; once space is freed, every
    letter goes exactly once."""
    server = smtp_servers()
    campaign = make_campaign(tmp_path / "campaign", [office(i) for i in range(1, 9)])
    failures = []
    with _small_disk(tmp_path / "disk") as disk:
        out = disk / "out"
        assert _send(campaign, out, server.url).returncode == 0  # a dry run renders all
        assert _send(campaign, out, server.url, "--no-dry-run", "--to", "r1").returncode == 0
        for pages in range(40):  # one page (4 KB) more each time
            filler = _fill(disk, leave=pages * 4096)
            result = _send(campaign, out, server.url, "--no-dry-run")
            filler.unlink()
            if result.returncode == 0:
                break
            failures.append(_one_line(result, 1, [str(out)]))
            assert set(server.ids().values()) == {1}  # some may go before the disk fills
        last = _send(campaign, out, server.url, "--no-dry-run")
        assert last.returncode == 0, last.stderr
    print("\n".join(failures))
    assert any("cannot write the send journal" in line for line in failures), failures
    assert sorted(server.ids().values()) == [1] * 8


def test_a_mark_on_disk_is_not_undone_by_a_later_failed_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions ask for their `sending` mark before their commands and wait for it
    before the message. A message whose mark is on disk may go even when another
    session's commit has failed since (else its row would say `sending` of a letter
    that never left: unknown, and never sent again); the failed mark's own session,
    and every later mark, get the error."""
    from advocacy.send.journal import Mark
    from advocacy.send.writer import Writer

    journal = Journal.open(tmp_path)
    journal.queue(
        [
            Entry(k, "letter", k, "en", f"{k}@example.org", f"{k}.eml", "0" * 64, f"<{k}>")
            for k in "ab"
        ]
    )
    commits: list[list[str]] = []
    real = Journal.mark_many

    def full_after_one(self: Journal, marks: list[Mark]) -> None:
        commits.append([m.key for m in marks])
        if len(commits) > 1:
            raise sqlite3.OperationalError("database or disk is full")
        real(self, marks)

    monkeypatch.setattr(Journal, "mark_many", full_after_one)
    writer = Writer(journal)
    a_on_disk = writer.durable(Mark("a", "sending", attempt=True))
    while not commits:
        time.sleep(0.01)
    b_on_disk = writer.durable(Mark("b", "sending", attempt=True))
    with pytest.raises(OutputError, match="cannot write the send journal: database or disk"):
        b_on_disk()
    a_on_disk()  # its own commit went through: a goes
    with pytest.raises(OutputError):
        writer.durable(Mark("a", "sent"))
    assert commits == [["a"], ["b"]]
    assert {e.key: e.state for e in journal.entries()} == {"a": "sending", "b": "pending"}


def test_queueing_on_a_full_disk_raises_one_line(tmp_path: Path) -> None:
    """The journal's own queue(): the disk fills between opening and queueing."""
    with _small_disk(tmp_path / "disk") as disk:
        journal = Journal.open(disk)
        _fill(disk)
        entries = [
            Entry(f"r{i}", "letter", f"r{i}", "en", "a@example.org", "x.eml", "0" * 64, f"<{i}>")
            for i in range(2000)
        ]
        with pytest.raises(OutputError) as raised, journal:
            journal.queue(entries)
        assert str(raised.value).startswith(f"{disk / JOURNAL}: cannot write the send journal")
        assert "\n" not in str(raised.value)


def test_marks_committed_together_read_as_if_committed_one_by_one(tmp_path: Path) -> None:
    """A batch of marks is two statements, whatever its size (the sqlite module hands
    the GIL over at each one, and the sessions wait for it), and ends where the same
    marks one by one would: the last state of each row, every attempt counted, when
    it was sent, and every event in order."""
    from advocacy.send.journal import Mark

    keys = [f"r{i}" for i in range(7)]
    marks = [Mark(k, "sending", attempt=True) for k in keys]
    marks += [Mark(k, "sent", "250 ok") for k in keys[:5]] + [Mark("r5", "deferred", "451 x")]
    marks += [Mark("r5", "sending", attempt=True), Mark("r5", "sent", "250 later")]

    def journaled(where: Path, batches: list[list[Mark]]) -> tuple[list[tuple], list[tuple], int]:
        where.mkdir()
        journal = Journal.open(where)
        journal.queue(
            [Entry(k, "letter", k, "en", f"{k}@example.org", f"{k}.eml", "0" * 64, k) for k in keys]
        )
        statements: list[str] = []
        journal.db.set_trace_callback(statements.append)
        for batch in batches:
            journal.mark_many(batch)
        journal.db.set_trace_callback(None)
        rows = journal.db.execute(
            "SELECT key, state, reply, attempts, sent_at != '' FROM messages ORDER BY key"
        ).fetchall()
        events = journal.db.execute("SELECT key, state, reply FROM events ORDER BY id").fetchall()
        journal.close()
        return rows, events, len(statements)

    together = journaled(tmp_path / "together", [marks])
    apart = journaled(tmp_path / "apart", [[mark] for mark in marks])
    assert together[:2] == apart[:2]
    assert ("r5", "sent", "250 later", 2, 1) in together[0]
    assert ("r6", "sending", "", 1, 0) in together[0]
    assert together[2] == 4  # BEGIN, the rows, the events, COMMIT
