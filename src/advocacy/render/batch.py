"""`advocacy render`: the campaign's letters as files in an output folder.

Library code: it reports progress and warnings through a `Reporter` and
raises `AdvocacyError`s; it never prints. Letters are rendered in a pool of
worker processes (one per core), skipped when nothing they are made from has
changed, and a letter that fails does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .. import __version__
from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import BadInput, LimitExceeded, RenderFailed
from ..formats import syslibs
from ..letter import gaps, wording
from ..letter.checks import address_warning_lines
from ..letter.compose import Composer
from . import manifest, seal
from .folder import check_out_dir, exclusive, remove_unlisted
from .records import Json, LetterRecord
from .results import Failed, Failure, Rendered, failure_error
from .shards import in_shard, parse_shard
from .worker import (
    LetterWorker,
    Loaded,
    Task,
    WorkerConfig,
    inherit,
    init_process,
    run_in_process,
)

MANIFEST = manifest.MANIFEST
FORMATS = ("pdf", "html", "eml", "mbox")


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, recipient_id: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def fail(self, recipient_id: str, message: str) -> None: ...


class SilentReporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.failures: list[str] = []

    def start(self, total: int) -> None:
        pass

    def advance(self, recipient_id: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, recipient_id: str, message: str) -> None:
        self.failures.append(message)


@dataclass
class RenderOptions:
    selectors: Sequence[str] = ()
    formats: Sequence[str] = ("pdf",)
    out: Path = Path("letters")
    force: bool = False
    pdf_variant: str = "pdf/ua-1"
    language: str | None = None
    today: dt.date | None = None  # None means the day of rendering
    jobs: int | None = None  # None: one per CPU
    shard: str | None = None  # "K/N"
    attach_pdf: bool = True  # email letters (eml, mbox) carry the PDF letter
    mail_from: str = ""  # From of email letters; default: the campaign's sender
    allow_fallback: bool = False  # a catalog lacking new sentences: write in the fallback
    no_address: str | None = None  # "mark" or "fail"; None: campaign.toml [render]


def _formats(options: RenderOptions) -> tuple[str, ...]:
    """The per-letter files: mbox is made from the .eml files after the run, and an
    email letter attaches the PDF it makes (so the .pdf is written too)."""
    formats = set(options.formats) - {"mbox"}
    if "mbox" in options.formats:
        formats.add("eml")
    if "eml" in formats and options.attach_pdf:
        formats.add("pdf")
    return tuple(sorted(formats))


@dataclass
class RenderSummary:
    campaign: str
    campaign_dir: str
    out: str
    letters: list[LetterRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    untranslated: list[str] = field(default_factory=list)  # letters a catalog gap touched

    def as_json(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "campaign_dir": self.campaign_dir,
            "out": self.out,
            "rendered": len(self.letters),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "files": sum(len(letter.files) for letter in self.letters),
            "seconds": round(self.seconds, 3),
            "jobs": self.jobs,
            "warnings": self.warnings,
            "failures": [failure.as_json() for failure in self.failed],
            "letters": [letter.to_json() for letter in self.letters],
        }

    def headline(self) -> str:
        """The run in one line, as the terminal shows it."""
        files = sum(len(letter.files) for letter in self.letters)
        per = self.seconds / len(self.letters) if self.letters else 0.0
        return (
            f"Rendered {len(self.letters)} letter(s), {files} file(s) into {self.out}/ "
            f"in {self.seconds:.1f} s ({per:.2f} s per letter, {self.jobs} process(es)); "
            f"{len(self.skipped)} unchanged, {len(self.failed)} failed; "
            f"{len(self.warnings)} warning(s)."
        )

    def failure(self) -> RenderFailed | None:
        """The error to exit with when letters failed: bad input (2) or the world (1)."""
        total = len(self.failed) + len(self.letters)
        return failure_error(self.failed, f"{len(self.failed)} of {total} letter(s) failed")


def _static_warnings(campaign: Campaign) -> list[str]:
    warnings = []
    if campaign.config.sender.placeholder:
        warnings.append(wording.placeholder_sender().message)
    speed = syslibs.speed_warning()
    if speed:
        warnings.append(speed)
    return warnings


def _translation_gap(
    campaign: Campaign,
    composer: Composer,
    recipients: list[Recipient],
    options: RenderOptions,
    summary: RenderSummary,
    reporter: Reporter,
) -> set[str]:
    """Letters whose catalog lacks new or changed sentences: reported once, as a block,
    and not made unless the fallback language is allowed. Their ids."""
    gap = gaps.find_gap(composer, recipients)
    if not gap:
        return set()
    summary.untranslated = sorted(gap.letters)
    if options.allow_fallback or campaign.config.campaign.missing_translation == "fallback":
        message = gaps.fell_back_line(gap, composer.fallback)
        summary.warnings.append(message)
        reporter.warn(message)
        return set()
    shown = "" if campaign.defaulted else str(campaign.root)
    message = gaps.block(gap, shown, composer.fallback)
    summary.warnings.append(message)
    reporter.warn(message)
    for rid, language in gap.letters.items():
        error = (
            f"the {language} translation lacks new or changed sentences "
            "(run 'advocacy translations status'), or use --allow-fallback"
        )
        summary.failed.append(Failure(rid, error, bad_input=True))
    return set(gap.letters)


def _preflight(composer: Composer, recipients: list[Recipient]) -> None:
    """Compose one letter per language before writing anything: a broken template
    or catalog then stops the run with nothing written."""
    seen: set[tuple[str, ...]] = set()
    for recipient in recipients:
        languages = tuple(composer.choose(recipient)[0])
        if languages not in seen:
            try:
                composer.compose(recipient)
            except LimitExceeded:
                continue  # this letter alone passes a bound: it fails in the run, alone
            seen.add(languages)


class _Run:
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
        self.entries: manifest.Table = {letter.key: letter for letter in old}
        self.drafted: dict[str, str] = {}  # language -> its review state
        self.letter_warnings: list[str] = []
        self.fell_back: list[str] = []
        self.fatal = False
        self.started = time.time()

    def warn(self, message: str) -> None:
        self.summary.warnings.append(message)
        self.reporter.warn(message)

    def take(self, result: Rendered | Failed) -> None:
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
        self.reporter.advance(entry.recipient)

    def save(self) -> None:
        # Letters the workers logged but whose results never reached us
        # (Ctrl-C between a chunk's letters) are in the log: keep them too.
        for entry in manifest.log_entries(self.out):
            manifest.supersede(self.entries, entry)
        kept = [
            e for e in self.entries.values() if all((self.out / f.path).is_file() for f in e.files)
        ]
        remove_unlisted(self.out, {f.path for e in kept for f in e.files}, self.started)
        if kept or (self.out / MANIFEST).exists():
            manifest.save(
                self.out,
                kept,
                tool=f"advocacy {__version__}",
                campaign=self.campaign.config.campaign.title,
                campaign_dir=str(self.campaign.root.resolve()),
            )


def render(
    campaign: Campaign, options: RenderOptions, reporter: Reporter | None = None
) -> RenderSummary:
    """Render the selected letters of `campaign` (open it with
    `campaign.discovery.open_campaign`); failed letters are in `summary.failed`."""
    reporter = reporter or SilentReporter()
    started = time.perf_counter()
    for fmt in options.formats:
        if fmt not in FORMATS:
            raise BadInput(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
    formats = _formats(options)
    if "pdf" in formats:
        from ..formats.pdf import VARIANTS

        if options.pdf_variant not in VARIANTS:  # once, before any letter
            raise BadInput(
                f"--pdf-variant {options.pdf_variant!r} is not a PDF variant; use one of "
                f"{', '.join(VARIANTS)}"
            )
    shard = parse_shard(options.shard) if options.shard else None
    recipients = select(campaign.recipients, options.selectors)
    if shard:
        recipients = [r for r in recipients if in_shard(r.id, *shard)]
    out = options.out
    check_out_dir(out, options.force, create=False)
    manifest.check_campaign(out, campaign)

    summary = RenderSummary(campaign.config.campaign.title, str(campaign.root), str(out))
    composer = Composer(campaign, today=options.today, language=options.language)
    _preflight(composer, recipients)
    for message in _static_warnings(campaign):
        summary.warnings.append(message)
        reporter.warn(message)
    untranslated = _translation_gap(campaign, composer, recipients, options, summary, reporter)

    # What every file of a letter depends on; each format's own settings are
    # recorded per file, so asking for another format redoes only that format.
    settings: dict[str, Json] = {
        "language": options.language or campaign.config.campaign.language,
        "date": composer.date.isoformat(),
    }
    if "eml" in formats:
        from ..formats.mime import reply_to, sender_address

        sender_address(campaign, options.mail_from)  # a bad From stops the run up front
        reply_to(campaign)
    email: dict[str, Json] = {"attach_pdf": options.attach_pdf, "from": options.mail_from}
    if options.attach_pdf:
        email["pdf_variant"] = options.pdf_variant  # the attached PDF is part of the email
    per_format = manifest.format_settings(formats, options.pdf_variant, email)
    no_address = options.no_address or campaign.config.render.no_address
    common = manifest.campaign_digest(campaign, settings)
    old = manifest.load(out).letters
    done = {letter.recipient: letter for letter in old}
    todo: list[Task] = []
    chosen = {r.id for r in recipients}  # once, not once per old letter
    foreign = [e.recipient for e in old if e.recipient in chosen and not seal.sealed(e)]
    if foreign:
        message = wording.foreign_letters(str(out), foreign)
        summary.warnings.append(message)
        reporter.warn(message)
    for recipient in recipients:
        if recipient.id in untranslated:
            continue
        digest = manifest.letter_digest(common, recipient)
        if recipient.address_withheld:  # only these letters depend on the no-address mode
            digest = manifest.letter_digest(digest + no_address, recipient)
        kept = (
            ()
            if options.force
            else manifest.reusable(out, done.get(recipient.id), digest, per_format)
        )
        have = {item.format for item in kept}
        missing = tuple(fmt for fmt in formats if fmt not in have)
        if missing:
            todo.append(Task(recipient.id, missing, kept))
        else:
            summary.skipped.append(recipient.id)

    created = not out.exists()
    check_out_dir(out, options.force, create=True)
    config = WorkerConfig(
        campaign.root,
        campaign.bundled,
        out.resolve(),
        formats,
        options.pdf_variant,
        options.language,
        options.today,
        common,
        attach_pdf=options.attach_pdf,
        mail_from=options.mail_from,
        settings=per_format,
        no_address=no_address,
    )
    try:
        with exclusive(out):
            run = _Run(campaign, out, summary, reporter, old)
            try:
                _run_batch(run, config, (campaign, composer), todo, recipients, options.jobs)
            finally:
                run.save()
    finally:
        if created and not any(out.iterdir()):
            out.rmdir()  # leave no trace of a run that wrote nothing
    _closing_warnings(run, recipients)
    if "eml" in formats:
        from .mailbox import finish_render

        mbox = "mbox" in options.formats
        for message in finish_render(out, run.entries.values(), recipients, mbox):
            run.warn(message)
    order = {r.id: i for i, r in enumerate(recipients)}  # list order, not completion order
    # Letters without an address block first: they must not be posted as they are.
    summary.letters.sort(key=lambda e: (e.address_block, order.get(e.recipient, 0)))
    summary.failed.sort(key=lambda f: order.get(f.recipient, 0))
    summary.seconds = time.perf_counter() - started
    return summary


def _run_batch(
    run: _Run,
    config: WorkerConfig,
    loaded: Loaded,
    todo: list[Task],
    recipients: list[Recipient],
    jobs_wanted: int | None,
) -> None:
    jobs = max(1, min(jobs_wanted or os.cpu_count() or 1, len(todo)))
    run.summary.jobs = jobs
    run.reporter.start(len(recipients))
    for rid in run.summary.skipped:
        run.reporter.advance(rid)
    for result in _results(config, loaded, todo, jobs):
        run.take(result)
        if run.fatal:
            break  # the disk is full or read-only: the rest would fail the same way


def _results(
    config: WorkerConfig, loaded: Loaded, tasks: list[Task], jobs: int
) -> Iterator[Rendered | Failed]:
    if not tasks:
        return
    if jobs == 1:
        worker = LetterWorker(config, loaded)
        for task in tasks:
            yield worker.run(task)
        return
    if "pdf" in config.formats:
        from ..formats.pdf import _import_weasyprint

        _import_weasyprint()  # once, before forking, instead of 0.6 s in every worker
    # fork: workers start with the parent's imports and no pickling of the campaign.
    context = multiprocessing.get_context("fork")
    chunk = max(1, min(16, len(tasks) // (jobs * 4)))
    inherit(loaded)  # the campaign and Composer travel by fork, not by loading again
    try:
        with context.Pool(jobs, initializer=init_process, initargs=(config,)) as pool:
            yield from pool.imap_unordered(run_in_process, tasks, chunksize=chunk)
    finally:
        inherit(None)


def _closing_warnings(run: _Run, recipients: list[Recipient]) -> None:
    # Address gaps (the same as `recipients check`) grouped with the letters' own.
    letter_warnings = run.letter_warnings + address_warning_lines(recipients)
    for message in wording.grouped(letter_warnings):
        run.warn(message)
    for message in wording.drafted_batch(run.drafted):
        run.warn(message)
    if run.fell_back:
        run.warn(wording.fell_back_batch(run.fell_back))
    unverified = [r.id for r in recipients if not r.is_verified and not r.address_withheld]
    if unverified:
        run.warn(wording.unverified_batch(unverified))


def merge(sources: list[Path], out: Path) -> list[LetterRecord]:
    """`render --merge`: combine the output folders of several shards into `out`."""
    return manifest.merge(sources, out, tool=f"advocacy {__version__}")
