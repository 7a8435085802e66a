"""Each letter's state and timeline, from the manifest, the journals and the history.

A letter's state is its latest event (by the day it happened, then by the order
it was recorded): rendered, sent, test-sent, printed, posted, delivered, bounced,
replied, followed-up. Nothing is erased: the timeline keeps every earlier one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..campaign.model import Campaign
from ..errors import BadInput, OutputError
from ..render.manifest import load as load_manifest
from ..send.journal import JOURNAL
from ..send.testcopy import TEST_JOURNAL
from .history import STATES, Event, History, read_only_events

TODAY_ENV = "ADVOCACY_TODAY"  # a fixed "today" (YYYY-MM-DD) for reproducible reports
ORDER = ("not rendered", *STATES)
CONTACT = ("sent", "printed", "posted", "delivered")  # the letter reached, or went to, them
_PERIOD = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$")


def today() -> dt.date:
    fixed = os.environ.get(TODAY_ENV, "")
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            raise BadInput(f"{TODAY_ENV}={fixed!r}: write the date as YYYY-MM-DD") from None
    return dt.date.today()


def parse_period(value: str) -> int:
    """'30d', '30' or '4w' -> days."""
    found = _PERIOD.match(value)
    if not found:
        raise BadInput(f"--after {value!r}: give a number of days (30d) or weeks (4w)")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


@dataclass
class Letter:
    id: str
    country: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    organisation: str = ""
    events: list[Event] = field(default_factory=list)
    rendered: bool = False

    @property
    def state(self) -> str:
        if self.events:
            return self.events[-1].state
        return "rendered" if self.rendered else "not rendered"

    def first(self, *states: str) -> Event | None:
        return next((e for e in self.events if e.state in states), None)

    def last(self, *states: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.state in states), None)

    @property
    def channel(self) -> str:
        kinds = set()
        for event in self.events:
            if event.state == "sent":
                kinds.add("email")
            elif event.state in ("printed", "posted", "delivered"):
                kinds.add("paper")
        return "+".join(sorted(kinds))

    def waiting(self, on: dt.date) -> int | None:
        """Days from the first contact to the reply, or to `on` without one."""
        first = self.first(*CONTACT)
        if first is None:
            return None
        replied = self.first("replied")
        end = dt.date.fromisoformat(replied.day) if replied else on
        return (end - dt.date.fromisoformat(first.day)).days

    def unanswered_after(self, days: int, on: dt.date) -> bool:
        if self.first("replied") is not None:
            return False
        waited = self.waiting(on)
        return waited is not None and waited >= days and self.state != "bounced"


def _test_copies(out: Path) -> list[Event]:
    path = out / TEST_JOURNAL
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT recipient, sent_at FROM messages WHERE sent_at != '' AND kind = 'letter'"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return []
    return [Event(str(r), "test-sent", str(at), how="email") for r, at in rows]


def letters(campaign: Campaign | None, out: Path) -> list[Letter]:
    """One Letter per recipient of the campaign (and per id the records know of)."""
    found: dict[str, Letter] = {}
    if campaign is not None:
        language = campaign.config.campaign.language
        for r in campaign.recipients:
            found[r.id] = Letter(
                r.id,
                r.country,
                (r.languages or [language])[0],
                tuple(r.tags),
                r.text(r.organisation, r.languages or [language]),
            )
    manifest = load_manifest(out)
    for record in manifest.letters:
        item = found.setdefault(record.recipient, Letter(record.recipient, record.country))
        item.rendered = True
        item.language = record.language
    events: list[Event] = []
    if (out / JOURNAL).is_file():
        try:
            with History(out) as history:  # migrates a journal of an earlier release
                events = history.events()
        except OutputError:  # a folder that cannot be written can still be shown
            events = read_only_events(out)
    follow_ups = out / "follow-up"
    if (follow_ups / "outbox.sqlite3").is_file():
        with History(follow_ups) as more:
            events += [
                Event(**{**e.__dict__, "state": "followed-up"})
                for e in more.events()
                if e.state == "sent"
            ]
    events += _test_copies(out)
    events.sort(key=lambda e: e.day)  # stable: the recording order within a day
    for event in events:
        found.setdefault(event.recipient, Letter(event.recipient)).events.append(event)
    return sorted(found.values(), key=lambda item: item.id)


def counts(items: list[Letter]) -> dict[str, int]:
    totals = {state: 0 for state in ORDER}
    for item in items:
        totals[item.state] += 1
    return {state: n for state, n in totals.items() if n}
