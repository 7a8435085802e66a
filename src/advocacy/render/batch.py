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
import tempfile
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import narrowed, select
from ..errors import BadInput, CatalogError, LimitExceeded
from ..formats import syslibs
from ..letter import gaps, wording
from ..letter.compose import Composer
from . import manifest, seal
from .collect import Collector, closing_warnings
from .folder import check_out_dir, exclusive
from .merging import merge as merge_folders
from .records import FileRecord, Json, LetterRecord
from .results import Failed, Failure, Rendered
from .shards import Shard, in_shard, parse_shard
from .summary import RenderSummary, Reporter, SilentReporter
from .worker import (
    LetterWorker,
    Loaded,
    Task,
    WorkerConfig,
    frozen,
    inherit,
    init_process,
    run_in_process,
)

# The render's public names: other modules and the tests import them from here.
__all__ = [
    "FORMATS",
    "MANIFEST",
    "RenderOptions",
    "RenderSummary",
    "Reporter",
    "SilentReporter",
    "in_shard",
    "merge",
    "render",
]

MANIFEST = manifest.MANIFEST
FORMATS = ("pdf", "html", "eml", "mbox")


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


def _static_warnings(campaign: Campaign, pdfs: bool) -> list[str]:
    """`pdfs`: PDFs are to be made in this run (WeasyPrint is imported for them)."""
    warnings = []
    if campaign.config.sender.placeholder:
        warnings.append(wording.placeholder_sender().message)
    if pdfs:
        from ..formats.pdf import _import_weasyprint

        speed = syslibs.speed_warning(_import_weasyprint())
        if speed:
            warnings.append(speed)
    return warnings


def _translation_gap(
    campaign: Campaign,
    composer: Composer,
    recipients: Sequence[Recipient],
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


def _preflight(composer: Composer, recipients: Sequence[Recipient]) -> None:
    """Compose one letter per language before writing anything: a broken template
    then stops the run with nothing written. A refused catalog, or a letter past a
    bound, fails those letters alone, in the run."""
    seen: set[tuple[str, ...]] = set()
    for recipient in recipients:
        try:
            languages = tuple(composer.choose(recipient)[0])
        except CatalogError:
            continue
        if languages not in seen:
            try:
                composer.compose(recipient)
            except (LimitExceeded, CatalogError):
                continue  # a bound, or its language's catalog: it fails in the run, alone
            seen.add(languages)


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
        recipients = narrowed(recipients, lambda r: in_shard(r.id, shard.number, shard.count))
    out = options.out
    check_out_dir(out, options.force, create=False)
    previous = manifest.load(out)  # once: 100,000 letters take seconds to read
    manifest.check_campaign(out, campaign, previous)

    summary = RenderSummary(campaign.config.campaign.title, str(campaign.root), str(out))
    composer = Composer(campaign, today=options.today, language=options.language)
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
    _check_share(out, previous, shard)
    old = previous.letters
    done = {letter.recipient: i for i, letter in enumerate(old)}  # its place in `old`
    # Each letter to make: its place in `recipients`, its missing formats, its good files.
    todo = _Todo(formats)
    chosen = {r.id for r in recipients} if old else set()  # once, not once per old letter
    foreign = [e.recipient for e in old if e.recipient in chosen and not seal.sealed(e)]
    if foreign:
        message = wording.foreign_letters(str(out), foreign)
        summary.warnings.append(message)
        reporter.warn(message)
    for position, recipient in enumerate(recipients):
        if recipient.id in untranslated:
            continue
        digest = manifest.letter_digest(common, recipient)
        if recipient.address_withheld:  # only these letters depend on the no-address mode
            digest = manifest.letter_digest(digest + no_address, recipient)
        kept = (
            ()
            if options.force
            else manifest.reusable(out, _at(old, done.get(recipient.id)), digest, per_format)
        )
        have = {item.format for item in kept}
        missing = tuple(fmt for fmt in formats if fmt not in have)
        if missing:
            todo.add(position, missing, kept)
        else:
            summary.skipped.append(recipient.id)

    if len(todo):  # nothing to make (send's check that the letters are current): no need
        _preflight(composer, recipients)
    for message in _static_warnings(campaign, "pdf" in formats and bool(len(todo))):
        summary.warnings.append(message)
        reporter.warn(message)

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
            run = Collector(campaign, out, summary, reporter, old)
            if shard:  # the merge checks that it has every shard, of the same inputs
                run.shard = {"number": shard.number, "count": shard.count, "inputs": common}
            try:
                tasks = _tasks(recipients, todo)
                _run_batch(
                    run,
                    config,
                    (campaign, composer),
                    (tasks, len(todo)),
                    options.jobs,
                    len(recipients),
                )
            finally:
                run.save()
        summary.folder = run.entries
    finally:
        if created and not any(out.iterdir()):
            out.rmdir()  # leave no trace of a run that wrote nothing
    closing_warnings(run, recipients)
    if "eml" in formats:
        from .mailbox import finish_render

        mbox = "mbox" in options.formats
        for message in finish_render(out, run.entries.values(), recipients, mbox):
            run.warn(message)
    # List order, not completion order; letters without an address block first:
    # they must not be posted as they are.
    summary.letters.reorder(sorted(range(len(run.order)), key=run.order.__getitem__))
    if summary.failed:  # few, as a rule: the places of those letters only
        failed = {f.recipient for f in summary.failed}
        order = {r.id: i for i, r in enumerate(recipients) if r.id in failed}
        summary.failed.sort(key=lambda f: order.get(f.recipient, 0))
    summary.seconds = time.perf_counter() - started
    return summary


def _at(letters: Sequence[LetterRecord], index: int | None) -> LetterRecord | None:
    return None if index is None else letters[index]


def _check_share(out: Path, previous: manifest.Manifest, shard: Shard | None) -> None:
    """A shard's folder holds that shard only: another share's letters would make
    the merge count them twice, or miss the shard."""
    theirs = previous.shard
    if not previous.letters and not theirs:
        return
    was = f"shard {theirs.get('number')}/{theirs.get('count')}" if theirs else "a whole render"
    now = f"shard {shard}" if shard else "a whole render"
    if was != now:
        raise BadInput(
            f"{out}: holds the letters of {was}, not of {now}; give each shard its own --out"
        )


class _Todo:
    """The letters to make, by their place in the recipient list: an array of
    positions, and a dict for the few that lack only some formats (a plain list of
    tuples is ~150 bytes a letter: megabytes at 100,000)."""

    def __init__(self, formats: tuple[str, ...]) -> None:
        self.formats = formats
        self.positions = array("L")
        self.partial: dict[int, tuple[tuple[str, ...], tuple[FileRecord, ...]]] = {}

    def add(self, position: int, missing: tuple[str, ...], kept: tuple[FileRecord, ...]) -> None:
        self.positions.append(position)
        if kept or missing != self.formats:
            self.partial[position] = (missing, kept)

    def __len__(self) -> int:
        return len(self.positions)


def _tasks(recipients: Sequence[Recipient], todo: _Todo) -> Iterator[Task]:
    """The letters to make, each with its recipient's entry, read as the pool takes them."""
    for position in todo.positions:
        recipient = recipients[position]
        missing, kept = todo.partial.get(position, (todo.formats, ()))
        yield Task(recipient.id, missing, kept, recipient, position)


# Letters a PDF worker renders before a fresh one takes over (see _pooled).
LETTERS_PER_WORKER = 500


def _run_batch(
    run: Collector,
    config: WorkerConfig,
    loaded: Loaded,
    tasks: tuple[Iterator[Task], int],
    jobs_wanted: int | None,
    total: int,
) -> None:
    jobs = max(1, min(jobs_wanted or os.cpu_count() or 1, tasks[1]))
    run.summary.jobs = jobs
    run.reporter.start(total)
    for rid in run.summary.skipped:
        run.reporter.advance(rid)
    for result in _results(config, loaded, tasks, jobs):
        run.take(result)
        if run.fatal:
            break  # the disk is full or read-only: the rest would fail the same way


def _results(
    config: WorkerConfig, loaded: Loaded, tasks: tuple[Iterator[Task], int], jobs: int
) -> Iterator[Rendered | Failed]:
    todo, count = tasks
    if not count:
        return
    pdf = "pdf" in config.formats
    if jobs == 1 and not (pdf and count > LETTERS_PER_WORKER):
        worker = LetterWorker(config, loaded)
        with frozen():
            for task in todo:
                yield worker.run(task)
        return
    if pdf:
        from ..formats.pdf import _import_weasyprint

        _import_weasyprint()  # once, before forking, instead of 0.6 s in every worker
    with tempfile.TemporaryDirectory(prefix="advocacy-fit-") as memo:
        yield from _pooled(config, loaded, tasks, jobs, Path(memo))


def _pooled(
    config: WorkerConfig,
    loaded: Loaded,
    tasks: tuple[Iterator[Task], int],
    jobs: int,
    memo: Path,
) -> Iterator[Rendered | Failed]:
    todo, count = tasks
    from ..formats import fit

    fit.MEMO.shared = memo  # the workers learn each flow's fold moves once between them
    # fork: workers start with the parent's imports and no pickling of the campaign.
    context = multiprocessing.get_context("fork")
    # Small chunks: the last chunk of a batch runs on one worker while the others
    # idle, and 16 letters there cost a short batch 5% of its time.
    chunk = max(1, min(4, count // (jobs * 8)))
    # A worker that lays out PDFs grows by ~7.5 KB a letter, in Pango's and
    # fontconfig's C memory (not Python's: tracemalloc sees none of it, and neither
    # gc, malloc_trim nor a new FontConfiguration gives it back), so it is replaced
    # after LETTERS_PER_WORKER letters, at ~0.6 s each time: memory flat in N.
    recycle = LETTERS_PER_WORKER // chunk if "pdf" in config.formats else None
    inherit(loaded)  # the campaign and Composer travel by fork, not by loading again
    try:
        with (
            frozen(),
            context.Pool(
                jobs, initializer=init_process, initargs=(config,), maxtasksperchild=recycle
            ) as pool,
        ):
            # A generator: the pool takes tasks as its workers free up, so the entries
            # are read (and held) a few at a time, not all at once.
            yield from pool.imap_unordered(run_in_process, todo, chunksize=chunk)
    finally:
        inherit(None)
        fit.MEMO.shared = None


def merge(sources: list[Path], out: Path) -> list[LetterRecord]:
    """`render --merge`: combine the output folders of several shards into `out`."""
    return merge_folders(sources, out, tool=f"advocacy {__version__}")
