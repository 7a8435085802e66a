"""The send journal: one SQLite file in the output folder, one row per message.

States: pending -> sending -> sent | deferred | failed. `sending` is written
and committed just before the end of a message's data goes to the server, and
the outcome right after the server answers; a row still `sending` when a run
starts means the process died in between, so nobody knows whether the server
took the message: it is "unknown" and is not sent again by itself. A connection that ended after
the final "." of a message, before the server's reply, is journaled `unknown`
outright, for the same reason.

Every write is its own committed transaction, in WAL mode with
synchronous=FULL, so that a kill -9 or a power cut loses no state. An
advisory lock keeps two `send` runs off the same folder (and tells `status`
whether a `sending` row is really in flight).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import BadInput, OutputError

JOURNAL = "outbox.sqlite3"
LOCK = ".outbox.lock"
_T = TypeVar("_T")
STATES = ("pending", "sending", "sent", "deferred", "failed", "unknown")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    key TEXT PRIMARY KEY,          -- recipient id, or relay:<address>
    kind TEXT NOT NULL,            -- letter | relay
    recipient TEXT NOT NULL,       -- recipient id, or the group's name
    language TEXT NOT NULL,
    email TEXT NOT NULL,
    path TEXT NOT NULL,            -- the message file, relative to the output folder
    sha256 TEXT NOT NULL,          -- of that file when it was queued or sent
    message_id TEXT NOT NULL,      -- content digest: a changed letter gets a new one
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '', -- the server's last reply
    updated TEXT NOT NULL,
    sent_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    state TEXT NOT NULL,
    reply TEXT NOT NULL DEFAULT ''
);
"""


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """One send per output folder at a time, from rendering to the last message: two
    runs would send the same letters, or one would rewrite files the other sends."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = (out / LOCK).open("a")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the send journal: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{out}: another 'advocacy send' is running on this folder; wait for it to end"
            ) from None
        yield


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # the primary result codes of a damaged file


def damage(path: Path) -> str:
    """What makes `path` unusable as a send journal ("" when it is one): empty (sqlite
    would take it for a new database, and every letter would go again), not a database,
    cut short, unreadable, or without the messages table."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not header:
        return "is empty (0 bytes), not a send journal"
    if header != SQLITE_HEADER:
        return "is not a send journal (not an SQLite database)"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return f"is damaged ({exc})"
        # Not the journal's fault (a full disk, a missing permission): no --journal-lost.
        raise OutputError(
            f"{path}: cannot be read ({exc}); nothing was sent. Is the disk full? Free "
            "space, then run the same command again"
        ) from None
    if not check or check[0] != "ok":
        return "is damaged (it fails sqlite's integrity check)"
    if "messages" not in tables:
        return "is not a send journal (it has no messages table)"
    return ""


def refuse_damaged(path: Path) -> None:
    """One line naming the journal, before anything is read from it or sent."""
    problem = damage(path)
    if problem:
        raise OutputError(
            f"{path}: {problem}; restore it from a backup, or give 'advocacy send' "
            "--journal-lost to set it aside and send its letters again"
        )


def _unwritable(path: Path, exc: sqlite3.Error) -> OutputError:
    """A write the journal could not make (a full disk, a read-only file): one line."""
    return OutputError(f"{path}: cannot write the send journal ({exc}); nothing more was sent")


@dataclass
class Entry:
    key: str
    kind: str
    recipient: str
    language: str
    email: str
    path: str
    sha256: str
    message_id: str
    state: str = "pending"
    attempts: int = 0
    reply: str = ""
    updated: str = ""
    sent_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """Thread-safe: sending threads share one connection behind a lock."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        try:
            self.db = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
            )
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
                self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise OutputError(f"{path}: cannot open the send journal: {exc}") from None

    @classmethod
    def open(cls, out: Path) -> Journal:
        """The journal of `out`, created if needed (hold `exclusive(out)` first)."""
        return cls(out / JOURNAL)

    @classmethod
    def read(cls, out: Path) -> Journal:
        if not (out / JOURNAL).is_file():
            raise BadInput(
                f"{out}: has no send journal ({JOURNAL}); nothing was sent from this folder "
                "(give the --out that 'advocacy send' used)"
            )
        refuse_damaged(out / JOURNAL)
        return cls(out / JOURNAL, readonly=True)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    # -- reading -----------------------------------------------------------------

    def entries(self) -> list[Entry]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {', '.join(Entry.__dataclass_fields__)} FROM messages ORDER BY key"
            ).fetchall()
        return [Entry(*row) for row in rows]

    def get(self, key: str) -> Entry | None:
        with self._lock:
            row = self.db.execute(
                f"SELECT {', '.join(Entry.__dataclass_fields__)} FROM messages WHERE key = ?",
                (key,),
            ).fetchone()
        return Entry(*row) if row else None

    def meta(self, name: str) -> str:
        with self._lock:
            try:
                row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
            except sqlite3.OperationalError:  # a journal from before the table existed
                return ""
        return str(row[0]) if row else ""

    def set_meta(self, name: str, value: str) -> None:
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO meta (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )
        except sqlite3.Error as exc:
            raise _unwritable(self.path, exc) from None

    def in_flight_elsewhere(self) -> bool:
        """True while a send run holds the folder (its `sending` rows are live)."""
        lock = self.path.parent / LOCK
        if not lock.is_file():
            return False
        try:
            with lock.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    # -- writing -----------------------------------------------------------------

    def queue(self, entries: list[Entry]) -> None:
        """Record messages about to be sent: each row becomes pending with the current
        file. One transaction for the batch: a thousand fsyncs would cost seconds."""
        try:
            self._queue(entries)
        except sqlite3.Error as exc:
            raise _unwritable(self.path, exc) from None

    def _queue(self, entries: list[Entry]) -> None:
        now = _now()
        with self._write() as db:
            db.executemany(
                """INSERT INTO messages
                   (key, kind, recipient, language, email, path, sha256, message_id,
                    state, attempts, reply, updated, sent_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '', ?, '')
                   ON CONFLICT(key) DO UPDATE SET
                     kind = excluded.kind, recipient = excluded.recipient,
                     language = excluded.language, email = excluded.email,
                     path = excluded.path, sha256 = excluded.sha256,
                     message_id = excluded.message_id, state = 'pending',
                     updated = excluded.updated""",
                [
                    (
                        e.key,
                        e.kind,
                        e.recipient,
                        e.language,
                        e.email,
                        e.path,
                        e.sha256,
                        e.message_id,
                        now,
                    )
                    for e in entries
                ],
            )
            db.executemany(
                "INSERT INTO events (key, at, state) VALUES (?, ?, 'pending')",
                [(e.key, now) for e in entries],
            )

    def mark(self, key: str, state: str, reply: str = "", *, attempt: bool = False) -> None:
        """One state change, committed before this returns."""
        self.mark_many([Mark(key, state, reply, attempt)])

    def mark_many(self, marks: list[Mark]) -> None:
        """State changes in order, in one transaction: one fsync for all of them, and
        two statements whatever their number (the sqlite module hands the GIL over at
        each statement, and the sending threads wait for it)."""
        for mark in marks:
            if mark.state not in STATES:
                raise ValueError(mark.state)
        # A row takes its last mark; its attempts count every mark that is one.
        rows: dict[str, tuple[str, str, int, int]] = {}
        for mark in marks:
            _, _, attempts, sent = rows.get(mark.key, ("", "", 0, 0))
            sent = sent or int(mark.state == "sent")
            rows[mark.key] = (mark.state, mark.reply, attempts + int(mark.attempt), sent)
        now = _now()
        with self._write() as db:
            for chunk in _chunks(list(rows.items())):
                db.execute(
                    f"""WITH v(key, state, reply, attempts, sent) AS
                          (VALUES {", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))})
                        UPDATE messages SET state = v.state, reply = v.reply, updated = ?,
                          attempts = messages.attempts + v.attempts,
                          sent_at = CASE WHEN v.sent THEN ? ELSE messages.sent_at END
                        FROM v WHERE messages.key = v.key""",
                    [*(value for key, row in chunk for value in (key, *row)), now, now],
                )
            for part in _chunks(marks):
                db.execute(
                    "INSERT INTO events (key, at, state, reply) VALUES "
                    + ", ".join(["(?, ?, ?, ?)"] * len(part)),
                    [value for m in part for value in (m.key, now, m.state, m.reply)],
                )


def _chunks(items: list[_T], size: int = 500) -> Iterator[list[_T]]:
    """`items` in lists of `size`: a statement takes at most 32,766 parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Mark:
    key: str
    state: str
    reply: str = ""
    attempt: bool = False
