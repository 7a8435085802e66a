"""Every letter's life, append-only, in the send journal's own SQLite file.

The journal (send/journal.py) keeps one row per message and its current send
state. This module adds the campaign's history beside it, in new tables of the
same file, so that one file in the output folder is the record of the whole
campaign:

    history    one row per thing that happened to a letter: sent, test-sent,
               printed, posted, delivered, bounced, replied, followed-up. Rows
               are never changed or deleted (triggers refuse both); a later
               state is a new row, so the timeline stays.
    inbox_seen every mail `advocacy inbox` has looked at (by Message-ID, else by
               the digest of its bytes), so that a second run records nothing
               twice and skips unrelated mail without reading it again.

`migrate` brings a journal written by an earlier release up to date in place:
it only creates tables and copies what the journal already knows (each sent
message becomes a `sent` row), never changes or drops an existing row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputError
from ..send.journal import JOURNAL, Journal

SCHEMA_VERSION = "1"
STATES = (
    "rendered",
    "sent",
    "test-sent",
    "printed",
    "posted",
    "delivered",
    "bounced",
    "replied",
    "followed-up",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    on_date TEXT NOT NULL,          -- when it happened: an ISO date or date-time
    recorded TEXT NOT NULL,         -- when it was written down
    how TEXT NOT NULL DEFAULT '',   -- email | hand | post | ... ; a bounce's format
    by_whom TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',  -- a bounce's status code (5.1.1)
    detail TEXT NOT NULL DEFAULT '', -- a bounce's diagnostic; a reply's subject
    file TEXT NOT NULL DEFAULT '',  -- a stored reply, relative to the output folder
    source TEXT UNIQUE              -- what it was read from: a mail, a CSV row, a journal row
);
CREATE TRIGGER IF NOT EXISTS history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TABLE IF NOT EXISTS inbox_seen (
    source TEXT PRIMARY KEY,
    recorded TEXT NOT NULL,
    outcome TEXT NOT NULL           -- bounced | replied | unrelated
);
"""

_FIELDS = ("recipient", "state", "on_date", "how", "by_whom", "note", "code", "detail", "file")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Event:
    recipient: str
    state: str
    on_date: str
    how: str = ""
    by_whom: str = ""
    note: str = ""
    code: str = ""
    detail: str = ""
    file: str = ""
    source: str | None = None
    recorded: str = field(default="", compare=False)

    @property
    def day(self) -> str:
        return self.on_date[:10]


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE): committed whole, or
    rolled back whole when anything in it fails."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def migrate(db: sqlite3.Connection) -> None:
    """Create the history tables and copy in the journal's sent messages; idempotent.

    Rows copied from the journal carry a source naming the journal row, so running
    this again (every time the history is opened, after each `send`) adds only
    what was sent since."""
    db.executescript(_SCHEMA)
    with _transaction(db):
        db.execute(
            "INSERT INTO meta (name, value) VALUES ('history_schema', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (SCHEMA_VERSION,),
        )
        db.execute(
            """INSERT OR IGNORE INTO history (recipient, state, on_date, recorded, how, source)
               SELECT recipient, 'sent', sent_at, ?, 'email',
                      'journal:' || key || ':' || message_id
               FROM messages WHERE kind = 'letter' AND sent_at != ''""",
            (now(),),
        )


class History:
    """The history of one output folder (the journal file is created if missing:
    a campaign that only goes on paper has a history too)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        # The journal's own opening makes (or checks) its tables first.
        Journal.open(out).close()
        self.path = out / JOURNAL
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            migrate(self.db)
        except sqlite3.DatabaseError as exc:
            raise OutputError(f"{self.path}: cannot open the journal's history: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """All or nothing: a CSV that fails half-way leaves no row of it."""
        return _transaction(self.db)

    def add(self, db: sqlite3.Connection, event: Event) -> bool:
        """Append `event` inside a transaction; False if its source was recorded before."""
        if event.state not in STATES:
            raise ValueError(event.state)
        cursor = db.execute(
            f"INSERT OR IGNORE INTO history ({', '.join(_FIELDS)}, recorded, source) "
            f"VALUES ({', '.join('?' * (len(_FIELDS) + 2))})",
            (*(getattr(event, name) for name in _FIELDS), now(), event.source),
        )
        return cursor.rowcount == 1

    def seen(self, source: str) -> bool:
        row = self.db.execute("SELECT 1 FROM inbox_seen WHERE source = ?", (source,)).fetchone()
        return row is not None

    def mark_seen(self, db: sqlite3.Connection, source: str, outcome: str) -> None:
        db.execute(
            "INSERT OR IGNORE INTO inbox_seen (source, recorded, outcome) VALUES (?, ?, ?)",
            (source, now(), outcome),
        )

    def events(self) -> list[Event]:
        rows = self.db.execute(
            f"SELECT {', '.join(_FIELDS)}, source, recorded FROM history "
            "ORDER BY substr(on_date, 1, 10), id"
        ).fetchall()
        return [Event(*row) for row in rows]

    def sent_messages(self) -> dict[str, tuple[str, str, str, str]]:
        """Message-ID -> (recipient, email, sent_at, language) of every letter sent."""
        rows = self.db.execute(
            "SELECT message_id, recipient, email, sent_at, language FROM messages "
            "WHERE kind = 'letter' AND sent_at != ''"
        ).fetchall()
        return {str(r[0]): (str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows}

    def all_message_ids(self) -> dict[str, str]:
        """Message-ID -> recipient, of letters and of follow-ups, sent or not."""
        rows = self.db.execute(
            "SELECT message_id, recipient FROM messages WHERE kind = 'letter'"
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}


def read_only_events(out: Path) -> list[Event]:
    """The history of a journal that cannot be written (a read-only folder or file):
    its history rows if it has them, else its sent messages; nothing is migrated."""
    try:
        db = sqlite3.connect(f"file:{out / JOURNAL}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return []
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "history" in tables:
            rows = db.execute(
                f"SELECT {', '.join(_FIELDS)}, source, recorded FROM history "
                "ORDER BY substr(on_date, 1, 10), id"
            ).fetchall()
            return [Event(*row) for row in rows]
        rows = db.execute(
            "SELECT recipient, sent_at, message_id, key FROM messages "
            "WHERE kind = 'letter' AND sent_at != '' ORDER BY sent_at"
        ).fetchall()
        return [
            Event(r, "sent", at, how="email", source=f"journal:{k}:{m}") for r, at, m, k in rows
        ]
    except sqlite3.DatabaseError:
        return []
    finally:
        db.close()
