"""`advocacy inbox`: read the campaign's mailbox, record bounces and replies.

Each mail is looked at once: its Message-ID (else the digest of its bytes) goes
into the journal's `inbox_seen` table in the same transaction as what it
caused, so a second run records nothing twice, and a run that dies half-way
keeps what it recorded. A mail is
- a bounce (track/bounces.py) of one of our letters: by the returned original's
  Message-ID, else by the failed address being a letter's recipient;
- a reply: its In-Reply-To or References name one of our letters' Message-IDs,
  or its subject carries a letter's reference ("Ref. BY23-de-mfa"); an automatic
  answer (Auto-Submitted, an out-of-office) is not a reply;
- anything else, left alone.
A reply's whole message is stored in <out>/replies/, which stays in the output
folder (the report shows no reply text unless asked to).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from ..fsutil import write_atomic
from ..letter.reference import letter_reference
from .bounces import read_bounce
from .history import Event, History
from .mailboxes import Incoming, Source

REPLIES_DIR = "replies"
BATCH = 200
FOLLOW_UP_DIR = "follow-up"
_MSGID = re.compile(r"<[^<>\s]+>")
_WORD = re.compile(r"[\w.-]+")  # the characters of a reference (letter/reference.py)


@dataclass
class InboxSummary:
    source: str
    read: int = 0
    seen_before: int = 0
    bounced: list[Event] = field(default_factory=list)
    replied: list[Event] = field(default_factory=list)
    unrelated: int = 0
    moved: int = 0

    def as_json(self) -> dict[str, object]:
        def row(e: Event) -> dict[str, str]:
            return {"id": e.recipient, "on": e.on_date, "code": e.code, "detail": e.detail}

        return {
            "source": self.source,
            "read": self.read,
            "seen_before": self.seen_before,
            "bounced": [row(e) for e in self.bounced],
            "replied": [row(e) for e in self.replied],
            "unrelated": self.unrelated,
            "moved": self.moved,
        }


@dataclass
class _Letters:
    """What a mail is matched against: our Message-IDs, addresses and references."""

    by_message_id: dict[str, str]
    by_address: dict[str, str]
    by_reference: dict[str, str]

    @classmethod
    def of(cls, out: Path, history: History, prefix: str) -> _Letters:
        by_id = history.all_message_ids()
        follow_ups = out / FOLLOW_UP_DIR
        if (follow_ups / "outbox.sqlite3").is_file():
            with History(follow_ups) as more:
                by_id.update(more.all_message_ids())
        addresses = {
            mail.lower(): recipient for recipient, mail, _, _ in history.sent_messages().values()
        }
        recipients = set(by_id.values()) | {e.recipient for e in history.events()}
        refs = {letter_reference(prefix, r).lower(): r for r in recipients}
        return cls(by_id, addresses, refs)

    def reply_to(self, msg: EmailMessage) -> str | None:
        named = _MSGID.findall(f"{msg.get('In-Reply-To', '')} {msg.get('References', '')}")
        for message_id in named:
            if message_id in self.by_message_id:
                return self.by_message_id[message_id]
        # Whole words only: "BY23-de-mfa-2" is not "BY23-de-mfa". One pass over the
        # subject's words, not one search per letter (thousands of letters).
        for word in _WORD.findall(str(msg.get("Subject", "")).lower()):
            found = self.by_reference.get(word.rstrip("."))
            if found is not None:
                return found
        return None


def _when(msg: EmailMessage) -> str:
    try:
        parsed = email.utils.parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        parsed = None
    if parsed is None:
        parsed = dt.datetime.now(dt.UTC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="seconds")


def _automatic(msg: EmailMessage) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    return auto not in ("", "no") or bool(msg.get("X-Autoreply") or msg.get("X-Autorespond"))


def _store(out: Path, recipient: str, on: str, data: bytes) -> str:
    name = f"{recipient}-{on[:10]}-{hashlib.sha256(data).hexdigest()[:8]}.eml"
    write_atomic(out / REPLIES_DIR / name, data)
    return f"{REPLIES_DIR}/{name}"


def _classify(
    item: Incoming, letters: _Letters, out: Path, source: str
) -> tuple[str, Event | None]:
    msg = message_from_bytes(item.data, policy=default)
    assert isinstance(msg, EmailMessage)
    on = _when(msg)
    bounce = read_bounce(item.data)
    if bounce is not None:
        recipient = letters.by_message_id.get(bounce.original_id) or next(
            (letters.by_address[a] for a in bounce.addresses if a in letters.by_address), None
        )
        if recipient is None:
            return "unrelated", None
        return "bounced", Event(
            recipient,
            "bounced",
            on,
            how=bounce.how,
            code=bounce.code,
            detail=bounce.diagnostic,
            note=", ".join(bounce.addresses),
            source=source,
        )
    recipient = letters.reply_to(msg)
    if recipient is None or _automatic(msg):
        return "unrelated", None
    subject = " ".join(str(msg.get("Subject", "")).split())
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1]
    stored = _store(out, recipient, on, item.data)
    event = Event(
        recipient, "replied", on, how="email", by_whom=sender, detail=subject, file=stored
    )
    return "replied", Event(**{**event.__dict__, "source": source})


def read_inbox(out: Path, source: Source, prefix: str, move_to: str = "") -> InboxSummary:
    """Record the bounces and replies in `source` into the journal of `out`."""
    summary = InboxSummary(source.name)
    recorded: list[str] = []
    with History(out) as history:
        letters = _Letters.of(out, history, prefix)
        mails = _all(source.messages())
        # A transaction per BATCH mails: what a mail caused and that it was seen are
        # committed together (a run that dies loses at most a batch, read again next
        # time), without an fsync per mail.
        for start in range(0, len(mails), BATCH):
            with history.transaction() as db:
                for item in mails[start : start + BATCH]:
                    summary.read += 1
                    key = item.source
                    if history.seen(key):
                        summary.seen_before += 1
                        continue
                    outcome, event = _classify(item, letters, out, key)
                    if event is not None:
                        history.add(db, event)
                    history.mark_seen(db, key, outcome)
                    if event is None:
                        summary.unrelated += 1
                        continue
                    (summary.bounced if outcome == "bounced" else summary.replied).append(event)
                    recorded.append(item.key)
    if move_to and recorded:
        source.move(recorded, move_to)
        summary.moved = len(recorded)
    return summary


def _all(items: Iterable[Incoming]) -> list[Incoming]:
    # Read the whole folder before moving any of it: a move renumbers what follows.
    return list(items)
