"""What was sent from an output folder, kept apart from its journal.

The journal (`outbox.sqlite3`) is the truth about each message, but a journal can be
lost: deleted, replaced by an old backup, or emptied to 0 bytes, which sqlite takes
for a new database, and every letter would go again. So each real send also writes
`outbox.ledger.json`: the journal's identity (a random id kept in its meta table)
and how many messages it says were sent. A send whose journal is missing, damaged
or not the one the ledger names is refused, unless the user says `--journal-lost`
and accepts that letters go again; the damaged journal is then set aside, never
deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError
from ..fsutil import write_atomic
from .journal import JOURNAL, Journal, damage

LEDGER = "outbox.ledger.json"
JOURNAL_ID = "journal_id"
LOST_FLAG = "--journal-lost"


@dataclass(frozen=True)
class Record:
    journal: str  # the id in the journal's meta table
    sent: int  # messages the journal said were sent, when the record was written


def read_record(out: Path) -> Record | None:
    try:
        data = json.loads((out / LEDGER).read_text(encoding="utf-8"))
        return Record(str(data["journal"]), int(data["sent"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(
            f"{out / LEDGER}: is damaged; it records what was sent from this folder, so "
            f"check {JOURNAL} and, if it is whole, delete {LEDGER} (the next send writes it anew)"
        ) from None


def _problem(out: Path, record: Record | None) -> str:
    """Why the journal of `out` cannot be trusted for a send ("" when it can)."""
    path = out / JOURNAL
    if not (path.exists() or path.is_symlink()):
        if record is None:
            return ""  # no real send was ever started from here
        what = (
            f"{record.sent} message(s) were sent from this folder"
            if record.sent
            else "a send was started from this folder"
        )
        return f"is missing, but {what} ({LEDGER})"
    problem = damage(path)
    if problem or record is None:
        return problem
    with Journal(path, readonly=True) as journal:
        found = journal.meta(JOURNAL_ID)
    if found != record.journal:
        return (
            f"is not the journal the {record.sent} message(s) sent from this folder were "
            f"recorded in ({LEDGER}); an older copy would send them again"
        )
    return ""


def check(out: Path, *, journal_lost: bool) -> bool:
    """Before a send reads the journal: refuse one that is missing, damaged or foreign
    (one line), unless `journal_lost`. True when the journal is there to be read."""
    problem = _problem(out, read_record(out))
    if problem and not journal_lost:
        raise OutputError(
            f"{out / JOURNAL}: {problem}; nothing was sent. Restore the journal from a backup, "
            f"or give {LOST_FLAG} to accept that letters sent before go again"
        )
    return not problem and (out / JOURNAL).is_file()


def open_for_sending(out: Path, *, journal_lost: bool) -> Journal:
    """The journal a real send writes to. With `journal_lost`, a damaged or foreign one
    is renamed aside first (`outbox.sqlite3.lost-<time>`), and a new one started."""
    path = out / JOURNAL
    if journal_lost and _problem(out, read_record(out)) and path.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            part = path.with_name(path.name + suffix)
            if part.exists():
                part.rename(part.with_name(f"{part.name}.lost-{stamp}"))
    elif not journal_lost:
        check(out, journal_lost=False)  # nothing changed since the plan was made
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(
            f"{path}: is read-only, so no message could be recorded; nothing was sent. "
            "Make it writable (chmod u+w) and run again"
        )
    journal = Journal.open(out)
    try:
        if not journal.meta(JOURNAL_ID):
            journal.set_meta(JOURNAL_ID, secrets.token_hex(16))
        record(out, journal)
    except BaseException:
        journal.close()
        raise
    return journal


def record(out: Path, journal: Journal) -> None:
    """Write the ledger: this journal's id and how many messages it says were sent."""
    sent = sum(1 for entry in journal.entries() if entry.state == "sent")
    data = {"journal": journal.meta(JOURNAL_ID), "sent": sent}
    try:
        write_atomic(out / LEDGER, (json.dumps(data) + "\n").encode())
    except OSError as exc:
        raise OutputError(f"{out / LEDGER}: cannot write: {exc.strerror}") from None
