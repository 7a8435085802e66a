"""One render run's bookkeeping: results, warnings and the manifest as letters come
back from the workers."""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import __version__
from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..letter import wording
from ..letter.checks import address_warning_lines
from . import manifest
from .folder import NameSet, remove_unlisted
from .records import Json, LetterRecord
from .results import Failed, Rendered
from .summary import RenderSummary, Reporter

MANIFEST = manifest.MANIFEST


class Collector:
    """Collects results, warnings and the manifest as letters come back."""

    def __init__(
        self,
        campaign: Campaign,
        out: Path,
        summary: RenderSummary,
        reporter: Reporter,
        old: Sequence[LetterRecord],
    ) -> None:
        self.campaign, self.out, self.summary, self.reporter = campaign, out, summary, reporter
        self.entries = manifest.Table(old)
        self.drafted: dict[str, str] = {}  # language -> its review state
        self.letter_warnings: list[str] = []
        self.fell_back: list[str] = []
        self.fatal = False
        self.shard: dict[str, Json] | None = None  # a --shard render: which share
        self.started = time.time()
        self.taken = 0  # results that came back in this run
        # Per letter of summary.letters, as it came: its sort key, address block
        # (0: without one, first) then place in the list. Ints, not records.
        self.order = array("Q")

    def warn(self, message: str) -> None:
        self.summary.warnings.append(message)
        self.reporter.warn(message)

    def take(self, result: Rendered | Failed) -> None:
        self.taken += 1
        if isinstance(result, Failed):
            failure = result.failure
            self.fatal = self.fatal or result.fatal
            self.summary.failed.append(failure)
            self.reporter.fail(failure.recipient, failure.error)
            self.reporter.advance(failure.recipient)
            return
        entry = result.letter
        # Said at the end, one line per kind: thirty lines hide the one that matters.
        self.letter_warnings += entry.warnings
        for language, state in entry.review.items():
            if state in wording.DRAFT_STATES:
                self.drafted[language] = state
        if entry.fell_back_from and entry.recipient not in self.summary.untranslated:
            self.fell_back.append(f"{entry.recipient} ({entry.fell_back_from} -> {entry.language})")
        # A recipient's new letter supersedes its old ones (another language, say).
        for path in manifest.supersede(self.entries, entry):
            stale = self.out / path
            if stale.parent == self.out and stale.is_file():
                stale.unlink()
        self.summary.letters.append(entry)
        self.order.append((int(entry.address_block) << 40) | max(result.position, 0))
        self.reporter.advance(entry.recipient)

    def _is_whole(self, letter: LetterRecord) -> bool:
        # os.path, not pathlib: a Path interns each name, and the interpreter's table
        # of interned names would keep growing with the letters.
        folder = os.fspath(self.out)
        return all(os.path.isfile(os.path.join(folder, f.path)) for f in letter.files)

    def _kept(self) -> Iterator[LetterRecord]:
        """The letters whose files are all in the folder."""
        for e in self.entries.values():
            if self._is_whole(e):
                yield e

    def save(self) -> None:
        # Letters the workers logged but whose results never reached us
        # (Ctrl-C between a chunk's letters) are in the log: keep them too.
        for entry in manifest.iter_log(self.out):
            if not self.entries.holds(entry):  # most came back already: not again
                manifest.supersede(self.entries, entry)
        whole = True  # every letter listed has all its files

        def kept_names() -> Iterator[str]:
            nonlocal whole
            for e in self.entries.values():
                if self._is_whole(e):
                    yield from (f.path for f in e.files)
                else:
                    whole = False

        listed = NameSet(kept_names())
        remove_unlisted(self.out, listed, self.started)
        kept = self._kept()
        if self._unchanged(whole):
            return  # manifest.json says all of it already (send's render check, a rerun)
        # A shard always says that it ran, with no letters too: the merge counts shards.
        if listed or self.shard or (self.out / MANIFEST).exists():
            manifest.save(
                self.out,
                kept,
                tool=f"advocacy {__version__}",
                campaign=self.campaign.config.campaign.title,
                campaign_dir=str(self.campaign.root.resolve()),
                shard=self.shard,
            )

    def _unchanged(self, whole: bool) -> bool:
        """Nothing came back, nothing waits in the log, and every letter that
        manifest.json lists is still whole in the folder: writing it again would only
        change its date (100,000 letters: seconds, for nothing)."""
        if self.taken or self.shard or (self.out / manifest.LOG).exists():
            return False
        return whole and (self.out / MANIFEST).is_file()


def closing_warnings(run: Collector, recipients: Sequence[Recipient]) -> None:
    # Address gaps (the same as `recipients check`) grouped with the letters' own.
    letter_warnings = run.letter_warnings + address_warning_lines(recipients)
    for message in wording.grouped(letter_warnings):
        run.warn(message)
    for message in wording.drafted_batch(run.drafted):
        run.warn(message)
    if run.fell_back:
        run.warn(wording.fell_back_batch(run.fell_back))
    # Counted, with the first few named: 100,000 ids would be megabytes held for one line.
    first: list[str] = []
    count = 0
    for recipient in recipients:
        if not recipient.is_verified and not recipient.address_withheld:
            count += 1
            if len(first) < 5:
                first.append(recipient.id)
    if count:
        run.warn(wording.unverified_batch(first, count))
