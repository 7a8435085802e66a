"""The delivery checklist as CSV: one row per letter, for the group to fill in.

The columns are the ones `advocacy log --csv` reads back (the delivery loop):
`id,reference,name,event,on,by,how,note`. The checklist fills `id`,
`reference` and `name`; the group sets `event` to `delivered` (or `posted`,
or `reply` for an answer), `on` to the ISO date (2026-12-10), `by` to who
handed it over, `how` (in person, post) and any `note`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("id", "reference", "name", "event", "on", "by", "how", "note")
EVENTS = ("delivered", "posted", "reply")


@dataclass(frozen=True)
class Row:
    id: str
    reference: str
    name: str


def checklist_csv(rows: Sequence[Row]) -> bytes:
    """The CSV file (UTF-8, a header row, CRLF as spreadsheets write it)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.id, row.reference, row.name, "", "", "", "", ""])
    return buffer.getvalue().encode("utf-8")
