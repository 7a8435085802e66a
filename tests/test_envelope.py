"""A letter goes to its own address and nowhere else: the envelope recipient comes from
the recipient entry, the To header survives folding, and a message whose To header names
another address than its envelope is never sent."""

from __future__ import annotations

import email.utils
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from pathlib import Path

import pytest
import yaml

from advocacy.formats import headers
from advocacy.formats import mime as mail
from advocacy.send import dispatch, smtp
from conftest import REPO, run_cli
from mailserver import MailServer, make_campaign, office

# Names with every special of RFC 5322 and non-ASCII text, long enough to be folded.
NAMES = [
    "Federale Overheidsdienst Buitenlandse Zaken, Buitenlandse Handel en Ontwikkelingssamenwerking",
    'Ministry of Foreign Affairs (Department "Eastern Europe"; Unit: Belarus), Room 4.12, '
    "Second Floor, Attn. Desk Officer",
    "Ministère de l’Europe et des Affaires étrangères, Direction de l’Union européenne",
    "Υπουργείο Εξωτερικών της Ελληνικής Δημοκρατίας, Γενική Διεύθυνση Ευρωπαϊκών Υποθέσεων",
    "Plain words only that are long enough to be folded by any mail program at all",
    'a,b.c(d)e"f;g:h',
]


def _built(name: str, addr: str = "office@example.org") -> bytes:
    draft = mail.Draft(
        key="r1",
        campaign="test",
        languages=["en"],
        sender=Address(display_name=name, addr_spec="letters@example.org"),
        to=Address(display_name=name, addr_spec=addr),
        subject="Political prisoners in Belarus",
        text="Dear Minister,\n",
    )
    return mail.build(draft)


@pytest.mark.parametrize("name", NAMES)
def test_address_headers_survive_folding_and_strict_parsers(name: str) -> None:
    data = _built(name)
    head = data.split(b"\r\n\r\n")[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.split("\r\n")), head
    parsed = message_from_bytes(data, policy=policy.default)
    for header, addr in (("To", "office@example.org"), ("From", "letters@example.org")):
        (address,) = parsed[header].addresses
        assert address.addr_spec == addr
        assert not parsed[header].defects
        # Python's decoder puts a space between adjacent encoded words; an RFC 2047
        # decoder does not: both must give the name back.
        assert " ".join(address.display_name.split()) == name
        raw = " ".join(str(message_from_bytes(data, policy=policy.compat32)[header]).split())
        assert str(make_header(decode_header(raw))) == f"{name} <{addr}>"
        # The reading that sent a letter to <Federale>: the old parser, on the raw header.
        assert email.utils.getaddresses([raw]) == [(email.utils.parseaddr(raw)[0], addr)]
        assert mail.header_address(data, header) == addr


def test_header_address_refuses_what_is_not_one_address() -> None:
    data = _built("Someone").replace(
        b"To: Someone <office@example.org>", b"To: Federale, Buitenlandse <office@example.org>"
    )
    with pytest.raises(mail.MailError, match="not one address"):
        mail.header_address(data)
    assert mail.header_address(_built("Someone")) == "office@example.org"


def _journal_emails(out: Path) -> dict[str, str]:
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        return dict(db.execute("SELECT key, email FROM messages").fetchall())


@pytest.fixture
def smtpd() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def test_each_letter_reaches_the_address_its_entry_names(tmp_path: Path, smtpd: MailServer) -> None:
    bundled = yaml.safe_load((REPO / "recipients" / "eu-member-states.yaml").read_text("utf-8"))
    (be,) = [entry for entry in bundled if entry["id"] == "be-mfa"]
    be = {**be, "email": "be-mfa@example.org", "languages": ["en"]}
    be["organisation"] = {"en": be["organisation"]["nl"]}  # the long name with a comma
    offices = [office(i, organisation=name) for i, name in enumerate(NAMES[1:], start=1)]
    campaign = make_campaign(tmp_path / "campaign", [be, *offices])
    out = tmp_path / "out"
    result = run_cli(
        "send", str(campaign), "--out", str(out), "--smtp", smtpd.url, "--no-dry-run",
        "--no-attach-pdf", "--yes",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = {"be-mfa": "be-mfa@example.org"} | {o["id"]: o["email"] for o in offices}
    received = smtpd.messages()
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(expected.values())
    for item in received:
        assert len(item.rcpt_tos) == 1
        (to,) = item.message["To"].addresses
        assert to.addr_spec == item.rcpt_tos[0]
    names = {r.rcpt_tos[0]: r.message["To"].addresses[0].display_name for r in received}
    assert " ".join(names["be-mfa@example.org"].split()) == NAMES[0]
    assert _journal_emails(out) == expected


class _Events:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def sending(self, job: dispatch.Job) -> Callable[[], None]:
        return lambda: None

    def outcome(
        self, job: dispatch.Job, state: str, reply: str, *, counted: bool, final: bool
    ) -> None:
        with self.lock:
            self.outcomes.append((job.key, state, reply))


def _dispatched(
    smtpd: MailServer, *jobs: dispatch.Job, events: _Events | None = None
) -> dict[str, tuple[str, str]]:
    """Each job's final state and reply, sent over one connection with send's own
    envelope check."""
    from advocacy.send.run import _check

    events = events or _Events()
    server = smtp.parse_url(smtpd.url)
    dispatcher = dispatch.Dispatcher(server, None, dispatch.Policy(connections=1), events, _check)
    dispatcher.run(list(jobs))
    return {key: (state, reply) for key, state, reply in events.outcomes}


def test_a_message_for_another_address_than_its_envelope_is_not_sent(
    tmp_path: Path, smtpd: MailServer
) -> None:
    right, wrong = tmp_path / "right.eml", tmp_path / "wrong.eml"
    right.write_bytes(_built("Office A", "a@example.org"))
    wrong.write_bytes(_built("Office B", "b@example.org"))
    states = _dispatched(
        smtpd,
        dispatch.Job("a", "letters@example.org", "a@example.org", right),
        dispatch.Job("b", "letters@example.org", "a@example.org", wrong),
    )
    assert states["a"][0] == "sent"
    assert states["b"][0] == "failed"
    assert "To header names <b@example.org>" in states["b"][1]
    assert "envelope recipient is <a@example.org>" in states["b"][1]
    assert [r.rcpt_tos for r in smtpd.messages()] == [["a@example.org"]]


def test_a_message_changed_after_it_was_checked_is_not_sent(
    tmp_path: Path, smtpd: MailServer
) -> None:
    import hashlib

    kept, changed = tmp_path / "kept.eml", tmp_path / "changed.eml"
    kept.write_bytes(_built("Office A", "a@example.org"))
    changed.write_bytes(_built("Office A", "a@example.org"))
    digest = hashlib.sha256(kept.read_bytes()).hexdigest()
    # Edited between the plan (which hashed it) and its turn, the To header still right.
    changed.write_bytes(changed.read_bytes().replace(b"\r\n\r\n", b"\r\n\r\nP.S. ", 1))
    states = _dispatched(
        smtpd,
        dispatch.Job("a", "l@example.org", "a@example.org", kept, sha256=digest),
        dispatch.Job("b", "l@example.org", "a@example.org", changed, sha256=digest),
    )
    assert states["a"][0] == "sent"
    assert states["b"] == ("failed", f"not sent: {changed} changed after it was checked; "
                                     "render it again")  # fmt: skip
    assert len(smtpd.messages()) == 1


class _SlowJournal(_Events):
    """A journal whose `sending` mark takes 0.3 s to reach the disk, and which notes
    what the server had been given when the mark was asked for and when it was on disk."""

    def __init__(self, smtpd: MailServer) -> None:
        super().__init__()
        self.smtpd = smtpd
        self.log: list[tuple[str, str, int, int]] = []  # (event, key, MAILs, messages)

    def _seen(self, event: str, key: str) -> None:
        self.log.append((event, key, len(self.smtpd.mail_options), len(self.smtpd.messages())))

    def sending(self, job: dispatch.Job) -> Callable[[], None]:
        self._seen("asked", job.key)
        started = time.monotonic()

        def on_disk() -> None:
            time.sleep(max(0.0, 0.3 - (time.monotonic() - started)))
            self._seen("on disk", job.key)

        return on_disk


def test_the_sending_mark_is_written_while_the_commands_travel_and_before_the_message(
    tmp_path: Path, smtpd: MailServer
) -> None:
    letters = []
    for n in (1, 2):
        path = tmp_path / f"{n}.eml"
        path.write_bytes(_built(f"Office {n}", f"o{n}@example.org"))
        letters.append(dispatch.Job(f"o{n}", "l@example.org", f"o{n}@example.org", path))
    events = _SlowJournal(smtpd)
    states = _dispatched(smtpd, *letters, events=events)
    assert [state for state, _ in states.values()] == ["sent", "sent"]
    # Each mark is asked for before its MAIL FROM reaches the server (so the fsync and
    # the commands' round trip overlap), and is on disk once MAIL, RCPT and DATA are
    # answered, while the message itself has not been handed over.
    assert events.log == [
        ("asked", "o1", 0, 0), ("on disk", "o1", 1, 0),
        ("asked", "o2", 1, 1), ("on disk", "o2", 2, 1),
    ]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_the_headers_send_shows_are_those_the_email_package_reads(name: str) -> None:
    import re
    from email.parser import BytesHeaderParser

    # A repeated header (the first counts, as for the package), a folded Subject and
    # a non-ASCII, comma-bearing name folded into encoded words.
    data = _built(name).replace(b"MIME-Version", b"To: Second <b@example.org>\r\nMIME-Version", 1)
    head = headers.header_block(data)
    package = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
    expected = {}
    for key in ("From", "To", "Subject", "Message-ID"):
        raw = re.sub(r"\r?\n(?=[ \t])", "", str(package.get(key, "")))
        expected[key] = (str(make_header(decode_header(raw))) if "=?" in raw else raw).strip()
    assert headers.shown_headers(head) == expected
    assert " ".join(name.split()) in headers.shown_headers(head)["To"]


def test_a_session_sets_its_socket_timeout_per_connection_not_per_reply(
    tmp_path: Path, smtpd: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    # settimeout is an ioctl that hands the GIL over; four sessions made ~9 of them a
    # message, and every one of them woke another thread.
    calls: list[float | None] = []
    real = socket.socket.settimeout

    def counted(sock: socket.socket, value: float | None) -> None:
        calls.append(value)
        real(sock, value)

    jobs = []
    for n in range(10):
        path = tmp_path / f"{n}.eml"
        path.write_bytes(_built(f"Office {n}", f"o{n}@example.org"))
        jobs.append(dispatch.Job(f"o{n}", "l@example.org", f"o{n}@example.org", path))
    monkeypatch.setattr(socket.socket, "settimeout", counted)
    states = _dispatched(smtpd, *jobs)
    assert [state for state, _ in states.values()] == ["sent"] * 10
    assert len(smtpd.messages()) == 10
    assert len(calls) <= 6, calls  # connect, greeting and EHLO; none for each message
