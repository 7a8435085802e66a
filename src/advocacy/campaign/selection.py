"""Which recipients a run is for: `--to` selectors by id, country or tag."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from ..errors import SelectorError
from ..spool import Spool
from .recipients import Recipient


class _Selectors:
    """`--to` selectors sorted by kind, so that matching a recipient is a few set
    lookups however many selectors there are (a send names every letter's id)."""

    def __init__(self, selectors: Sequence[str]) -> None:
        self.keys = [s.strip().lower() for s in selectors]
        self.tags = {k[4:] for k in self.keys if k.startswith("tag:")}
        self.names = {k for k in self.keys if not k.startswith("tag:")}  # ids, countries

    def matched(self, recipient: Recipient) -> set[str]:
        """The selectors (lower-cased) that pick `recipient`."""
        found = {f"tag:{t}" for t in (tag.lower() for tag in recipient.tags) if t in self.tags}
        if (key := recipient.id.lower()) in self.names:
            found.add(key)
        if (country := recipient.country.lower()) in self.names and len(country) == 2:
            found.add(country)
        return found


def select(recipients: Sequence[Recipient], selectors: Sequence[str]) -> Sequence[Recipient]:
    """Recipients matching any selector, in list order; all when none is given."""
    if not selectors:
        return recipients
    wanted = _Selectors(selectors)
    used: set[str] = set()
    positions: list[int] = []
    for position, recipient in enumerate(recipients):  # one pass: a spool reads each once
        if found := wanted.matched(recipient):
            used |= found
            positions.append(position)
    for selector, key in zip(selectors, wanted.keys, strict=True):
        if key not in used:
            raise SelectorError(_unknown(selector, recipients))
    if isinstance(recipients, Spool):
        return recipients.subset(positions)
    return [recipients[p] for p in positions]


def narrowed(
    recipients: Sequence[Recipient], keep: Callable[[Recipient], bool]
) -> Sequence[Recipient]:
    """The recipients `keep` says yes to, in order; of a `Spool`, a spool again (the
    entries stay on disk, however many there are)."""
    if isinstance(recipients, Spool):
        return recipients.subset(i for i, r in enumerate(recipients) if keep(r))
    return [r for r in recipients if keep(r)]


def _unknown(selector: str, recipients: Sequence[Recipient]) -> str:
    choices = sorted(
        {r.id for r in recipients}
        | {r.country.lower() for r in recipients}
        | {f"tag:{t}" for r in recipients for t in r.tags}
    )
    close = difflib.get_close_matches(selector.lower(), choices, n=4, cutoff=0.5)
    hint = (
        f"did you mean {', '.join(close)}?" if close else f"ids look like {', '.join(choices[:3])}"
    )
    return (
        f"--to {selector!r} matches no recipient (selectors are an id, a country code "
        f"or tag:NAME); {hint}"
    )


@dataclass(frozen=True)
class RecipientRow:
    """One line of `advocacy recipients list`."""

    id: str
    country: str
    organisation: str
    language: str
    paper: str
    email: bool
    verified: dt.date | bool

    def as_json(self) -> dict[str, str | bool]:
        data = asdict(self)
        data["verified"] = (
            self.verified.isoformat() if isinstance(self.verified, dt.date) else self.verified
        )
        return data


def recipient_rows(recipients: Sequence[Recipient]) -> list[RecipientRow]:
    return [
        RecipientRow(
            r.id,
            r.country,
            r.text(r.organisation, r.languages),
            r.primary_language,
            r.paper_size,
            bool(r.email),
            r.verified or False,
        )
        for r in recipients
    ]
