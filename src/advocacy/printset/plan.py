"""Which letters go into the print set, in which batch, and which are left out.

A batch is each country, each letter language, each relay group (a group's
letters are those its `match` column selects), or everything, by `--by`.
Letters keep the campaign's recipient order, which is the checklist's order.
A letter without a checked address (rendered, if at all, with ADDRESS MISSING)
or one that failed is left out, with the reason, and named on the cover.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import BadInput
from ..i18n import l10n
from ..render.records import LetterRecord
from ..render.results import Failure

BY = ("country", "group", "language", "none")


@dataclass(frozen=True)
class PrintLetter:
    recipient: Recipient
    letter: LetterRecord
    pdf: Path
    pages: int

    @property
    def language(self) -> str:
        return self.letter.language.split("+")[0]

    @property
    def paper(self) -> str:
        return self.letter.paper or "A4"


@dataclass
class Batch:
    name: str  # file-name safe: "de", "all", a group's slug
    language: str  # the sheets' language
    letters: list[PrintLetter] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    label: str = ""  # as the cover names it
    group: str = ""  # the relay group's key (relay:<address>), with --by group

    def by_paper(self) -> list[tuple[str, str, list[PrintLetter]]]:
        """(file stem, paper, letters): one file per paper size, named so when mixed."""
        papers: dict[str, list[PrintLetter]] = {}
        for item in self.letters:
            papers.setdefault(item.paper, []).append(item)
        if len(papers) == 1:
            ((paper, items),) = papers.items()
            return [(self.name, paper, items)]
        return [(f"{self.name}-{p.lower()}", p, items) for p, items in papers.items()]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-.") or "group"


def left_out_reason(
    recipient: Recipient, letter: LetterRecord | None, failures: Sequence[Failure]
) -> str:
    """Why the recipient's letter is not printed ("" when it is)."""
    failed = next((f for f in failures if f.recipient == recipient.id), None)
    if failed is not None:
        return f"failed: {failed.error}"
    if letter is None or letter.file(".pdf") is None:
        return "no PDF letter was rendered"
    if not letter.address_block:
        return "no checked address"
    return ""


def _most_common(languages: Sequence[str], default: str) -> str:
    counts: dict[str, int] = {}
    for language in languages:
        counts[language] = counts.get(language, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else default


def batches(
    campaign: Campaign,
    by: str,
    letters: Sequence[PrintLetter],
    left_out: Sequence[tuple[Recipient, str]],
    groups: Path | None = None,
) -> list[Batch]:
    """The batches of the print set, in a stable order."""
    if by not in BY:
        raise BadInput(f"--by {by!r}: use one of {', '.join(BY)}")
    fallback = l10n.language_of(campaign.config.campaign.fallback_language)
    found: dict[str, Batch] = {}
    if by == "group":
        if groups is None:
            raise BadInput("--by group needs the relay list: give --via groups.csv")
        from ..send.relay import load_groups

        for group in load_groups(groups, campaign.recipients):
            chosen = {r.id for r in select(campaign.recipients, group.selectors)}
            name = slug(group.name or group.email)
            batch = found.setdefault(
                name, Batch(name, group.language, label=group.name, group=group.key)
            )
            batch.letters += [item for item in letters if item.recipient.id in chosen]
            batch.left_out += [(r.id, why) for r, why in left_out if r.id in chosen]
        return _finish(found, by, fallback)

    def key(recipient: Recipient, language: str) -> str:
        if by == "country":
            return recipient.country.lower()
        if by == "language":
            return l10n.language_of(language)
        return "all"

    for item in letters:
        name = key(item.recipient, item.language)
        found.setdefault(name, Batch(name, "")).letters.append(item)
    for recipient, why in left_out:
        wanted = recipient.languages[0] if recipient.languages else fallback
        name = key(recipient, wanted)
        found.setdefault(name, Batch(name, "")).left_out.append((recipient.id, why))
    return _finish(found, by, fallback)


def _finish(found: dict[str, Batch], by: str, fallback: str) -> list[Batch]:
    """Batches with letters; the letters left out of a batch that has none are named
    on every cover, so that each left-out letter is named somewhere."""
    orphans = [entry for b in found.values() if not b.letters for entry in b.left_out]
    for batch in found.values():
        batch.left_out += [entry for entry in orphans if entry not in batch.left_out]
        spoken = [l10n.language_of(item.language) for item in batch.letters]
        if by != "group":
            batch.language = batch.name if by == "language" else _most_common(spoken, fallback)
            batch.label = batch.name.upper() if by == "country" else batch.name
    return sorted((b for b in found.values() if b.letters), key=lambda b: b.name)
