"""`advocacy log`: what happened on paper, one entry at a time or a CSV at once.

    advocacy log delivered de-mfa --on 2026-12-10 --by "Anna K." --how hand --note "..."
    advocacy log posted fr-mfa --on 2026-12-03
    advocacy log reply be-mfa --on 2026-12-20 --file scan.pdf
    advocacy log --csv deliveries.csv

The CSV's columns (a header row is required; helper sheets such as the print set's
checklist are written in them):

    id,reference,name,event,on,by,how,note

`id`, `event` (delivered | posted | reply) and `on` (YYYY-MM-DD) are required in each
row; `reference`, if given, must be that letter's reference; `name` is for the
people filling the sheet in and is not read; any other column is an error. A row
with neither event nor date is skipped (a sheet not yet filled in). Every row is
checked before any is recorded: a bad row is one error naming the file, the line
and the field, and nothing of the file is applied. A row recorded before (the
same id, event, date and how) is not recorded twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..csvfile import dict_reader
from ..errors import DeliveryLogError
from ..letter.reference import letter_reference
from .history import Event, History
from .inbox import REPLIES_DIR
from .states import today

EVENTS = {"delivered": "delivered", "posted": "posted", "reply": "replied"}
COLUMNS = ("id", "reference", "name", "event", "on", "by", "how", "note")
REQUIRED = ("id", "event", "on")


@dataclass(frozen=True)
class Entry:
    recipient: str
    event: str  # delivered | posted | reply
    on: dt.date
    by: str = ""
    how: str = ""
    note: str = ""
    file: Path | None = None


def parse_day(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DeliveryLogError(
            f"{where}: {value!r} is not a date; write it as YYYY-MM-DD (2026-12-10)"
        ) from None


def _check(entry: Entry, known: set[str], where: str) -> None:
    if entry.event not in EVENTS:
        raise DeliveryLogError(
            f"{where}: field 'event': {entry.event!r} is not one of delivered, posted, reply"
        )
    if entry.recipient not in known:
        raise DeliveryLogError(
            f"{where}: field 'id': no recipient {entry.recipient!r} in this campaign; "
            "see 'advocacy recipients list' for the ids"
        )
    if entry.on > today() + dt.timedelta(days=1):
        raise DeliveryLogError(f"{where}: field 'on': {entry.on} is in the future")
    if entry.file is not None and not entry.file.is_file():
        raise DeliveryLogError(f"{where}: --file {entry.file}: no such file")


def _event(entry: Entry, out: Path, source: str) -> Event:
    stored = ""
    if entry.file is not None:
        digest = hashlib.sha256(entry.file.read_bytes()).hexdigest()[:8]
        name = f"{entry.recipient}-{entry.on}-{digest}{entry.file.suffix}"
        (out / REPLIES_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.file, out / REPLIES_DIR / name)
        stored = f"{REPLIES_DIR}/{name}"
    how = entry.how or ("post" if entry.event in ("posted", "reply") else "")
    return Event(
        entry.recipient,
        EVENTS[entry.event],
        entry.on.isoformat(),
        how=how,
        by_whom=entry.by,
        note=entry.note,
        file=stored,
        source=source,
    )


def _source(entry: Entry) -> str:
    return f"log:{entry.recipient}:{entry.event}:{entry.on}:{entry.how}:{entry.by}"


def log_one(out: Path, entry: Entry, known: set[str]) -> bool:
    """Record one entry; False if the same entry was recorded before."""
    _check(entry, known, f"log {entry.event} {entry.recipient}")
    with History(out) as history, history.transaction() as db:
        return history.add(db, _event(entry, out, _source(entry)))


def read_csv(path: Path, known: set[str], prefix: str) -> list[Entry]:
    """Every filled-in row of `path`, or a DeliveryLogError for the first bad one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DeliveryLogError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DeliveryLogError(f"{path}: is not UTF-8 text; save it as 'CSV UTF-8'") from None
    reader = dict_reader(text)
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise DeliveryLogError(f"{path}: is empty; the first line names the columns")
    for name in header:
        if name not in COLUMNS:
            raise DeliveryLogError(
                f"{path}: line 1: column {name!r} is not known; the columns are {','.join(COLUMNS)}"
            )
    for name in REQUIRED:
        if name not in header:
            raise DeliveryLogError(f"{path}: line 1: the column {name!r} is missing")
    entries = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        line = f"{path}: line {reader.line_num}"
        if not any(clean.values()) or not (clean.get("event") or clean.get("on")):
            continue
        for name in REQUIRED:
            if not clean.get(name):
                raise DeliveryLogError(f"{line}: field {name!r} is empty")
        entry = Entry(
            clean["id"],
            clean["event"].lower(),
            parse_day(clean["on"], f"{line}: field 'on'"),
            clean.get("by", ""),
            clean.get("how", ""),
            clean.get("note", ""),
        )
        _check(entry, known, line)
        ref = clean.get("reference", "")
        expected = letter_reference(prefix, entry.recipient)
        if ref and ref.removeprefix("Ref.").strip() != expected:
            raise DeliveryLogError(
                f"{line}: field 'reference': {ref!r} is not the reference of "
                f"{entry.recipient!r} ({expected}); check the id or the reference"
            )
        entries.append(entry)
    return entries


def log_csv(out: Path, path: Path, known: set[str], prefix: str) -> tuple[int, int]:
    """(recorded, recorded before): all rows in one transaction, or none."""
    entries = read_csv(path, known, prefix)
    added = 0
    with History(out) as history, history.transaction() as db:
        for entry in entries:
            added += history.add(db, _event(entry, out, _source(entry)))
    return added, len(entries) - added


def record_printed(out: Path, printed: list[tuple[str, str]], folder: str) -> int:
    """Each letter of a print set, recorded as printed on the day it was made; the same
    PDF printed again is not recorded twice (a new render of it is)."""
    day = today().isoformat()
    with History(out) as history, history.transaction() as db:
        return sum(
            history.add(
                db,
                Event(
                    rid,
                    "printed",
                    day,
                    how="print set",
                    note=f"{folder}/",
                    source=f"print:{rid}:{sha256}",
                ),
            )
            for rid, sha256 in printed
        )
