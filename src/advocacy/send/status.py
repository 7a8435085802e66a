"""`advocacy status`: what the send journal of an output folder says.

Counts by state, the messages that need a look (failed, deferred, unknown) with
the server's replies, and the campaign's letters the journal has no row for yet.
A `sending` row of a run that is gone is reported as unknown: it may have arrived.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..campaign.model import Campaign
from ..errors import OutputError
from ..paths import CAMPAIGN_FILE
from . import ledger
from .journal import JOURNAL, Entry, Journal


@dataclass
class StatusReport:
    """The journal's rows, and the campaign's letters that have none."""

    journal: str
    live: bool  # a send run holds the folder right now
    entries: list[Entry]
    not_sent_yet: list[str]  # recipients with an email and no journal row

    def state(self, entry: Entry) -> str:
        """`sending` rows of a run that is gone are unknown: they may have arrived."""
        return "unknown" if entry.state == "sending" and not self.live else entry.state

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("sent", "pending", "deferred", "failed", "unknown", "sending"), 0)
        for entry in self.entries:
            counts[self.state(entry)] += 1
        counts["not sent yet"] = len(self.not_sent_yet)
        return counts

    def problems(self) -> list[Entry]:
        return [e for e in self.entries if self.state(e) in ("failed", "deferred", "unknown")]

    def headline(self) -> str:
        counts = ", ".join(f"{n} {state}" for state, n in self.counts().items() if n)
        return f"{self.journal}: {counts or 'empty'}"

    def problem_lines(self) -> list[str]:
        """One line per failed, deferred or unknown message; an unknown one names its
        Message-ID, which a mail admin can look for in the server's log."""
        lines = []
        for entry in self.problems():
            state = self.state(entry)
            reply = entry.reply or "no reply: the run stopped mid-message"
            mid = f" (Message-ID {entry.message_id})" if state == "unknown" else ""
            lines.append(
                f"{entry.key} <{entry.email}>{mid}: {state} after {entry.attempts} "
                f"attempt(s): {reply}"
            )
        return lines

    def rows(self) -> list[dict[str, str | int]]:
        return [{**entry.as_json(), "state": self.state(entry)} for entry in self.entries]

    def csv_rows(self) -> list[dict[str, str | int]]:
        """`rows()` for a spreadsheet: one line per message (a server's multi-line reply
        joined), and no cell that a spreadsheet would run as a formula."""
        return [{key: _cell(value) for key, value in row.items()} for row in self.rows()]

    def as_json(self) -> dict[str, object]:
        return {
            "journal": self.journal,
            "counts": self.counts(),
            "problems": [row for row in self.rows() if row["state"] in PROBLEM_STATES],
            "not_sent_yet": self.not_sent_yet,
            "messages": self.rows(),
        }


PROBLEM_STATES = ("failed", "deferred", "unknown")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | int) -> str | int:
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    # A reply or a name from outside must not become a formula (OWASP: CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def _read(out: Path) -> Journal:
    """The journal of `out`; one line when it is damaged, or missing although the
    ledger says letters were sent from the folder."""
    record = ledger.read_record(out)
    if record is not None and not (out / JOURNAL).exists():
        raise OutputError(
            f"{out / JOURNAL}: is missing, but {record.sent} message(s) were sent from this "
            f"folder ({ledger.LEDGER}); restore it from a backup"
        )
    return Journal.read(out)


def recorded_campaign(out: Path) -> Path | None:
    """The campaign folder the journal of `out` was last sent from, if it is still one."""
    with _read(out) as journal:
        recorded = journal.meta("campaign")
    if recorded and (Path(recorded) / CAMPAIGN_FILE).is_file():
        return Path(recorded)
    return None


def status(campaign: Campaign | None, out: Path) -> StatusReport:
    """What the journal of `out` says, and which of `campaign`'s letters it lacks (none
    are listed without a campaign; `recorded_campaign` names the one last sent from)."""
    with _read(out) as journal:
        try:
            entries = journal.entries()
        except sqlite3.Error as exc:  # damaged after the check, or unreadable after all
            raise OutputError(f"{out / JOURNAL}: cannot read the send journal ({exc})") from None
        live = journal.in_flight_elsewhere()
    missing: list[str] = []
    if campaign is not None and any(entry.kind == "letter" for entry in entries):
        keys = {entry.key for entry in entries}
        missing = [r.id for r in campaign.recipients if r.email and r.id not in keys]
    return StatusReport(str(out / JOURNAL), live, entries, missing)
