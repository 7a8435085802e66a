"""What every register source gives: raw recipient entries (the YAML shape of a
list), with a label per entry for messages, and the text helpers they share."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RegisterError

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class RegisterEntry:
    """One recipient as the register gives it, before validation."""

    label: str  # "entry 3 (bioguide C000127)": names the entry in messages
    fields: dict[str, Any]


@dataclass
class Register:
    """A register file read by a source: its entries and what to say about them."""

    source: str  # the source's name ("congress-legislators", "generic")
    path: Path
    date: str  # the file's date (ISO), as given or from the file
    entries: list[RegisterEntry]
    warnings: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    """ASCII, lower case, words joined by '-': 'Velázquez' -> 'velazquez'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", plain.lower()).strip("-")


def file_date(path: Path, given: str | None) -> str:
    """The register's date: `given` (checked) or the file's modification day (UTC)."""
    if given:
        try:
            return dt.date.fromisoformat(given).isoformat()
        except ValueError:
            raise RegisterError(
                f"--date {given!r} is not a date; write it as YYYY-MM-DD (2026-06-15)"
            ) from None
    stamp = path.stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()


def need(value: Any, shown: Path, label: str, what: str, hint: str) -> Any:
    """`value`, or one line naming the file, the entry and the missing field."""
    if value is None or value == "" or value == [] or value == {}:
        raise RegisterError(f"{shown}: {label}: field '{what}' is missing; {hint}")
    return value
