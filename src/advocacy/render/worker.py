"""Render letters inside one process (a pool worker, or the main process).

Each worker loads the campaign and builds its Jinja environment, catalogs,
WeasyPrint stylesheets and font configuration once, then composes and renders
many letters, writing each file itself: nothing but the letter's record
(`Rendered`) or why it failed (`Failed`) travels back to the parent, so memory
stays flat however large the batch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..campaign.model import Campaign, load_campaign
from ..campaign.recipients import Recipient
from ..errors import AdvocacyError, LimitExceeded, RecipientError
from ..fsutil import write_atomic
from ..letter import limits, wording
from ..letter.compose import Composer
from .manifest import append_log
from .records import FileRecord, LetterRecord
from .results import Failed, Failure, Rendered
from .seal import seal_of

if TYPE_CHECKING:
    from ..formats.mime import LetterMailer
    from ..formats.pdf import PdfRenderer

FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


Loaded = tuple[Campaign, Composer]


@dataclass(frozen=True)
class WorkerConfig:
    campaign_root: Path
    bundled: bool
    out: Path
    formats: tuple[str, ...]
    pdf_variant: str
    language: str | None
    today: dt.date | None
    common_hash: str
    attach_pdf: bool = True  # email letters carry the PDF
    mail_from: str = ""  # From of email letters instead of the campaign's sender
    settings: dict[str, str] = field(default_factory=dict)  # format -> its settings digest
    # A letter without a checked address: "fail", "mark" (ADDRESS MISSING in the
    # window) or "omit" (an empty window: the email copies of `send`).
    no_address: str = "fail"


@dataclass(frozen=True)
class Task:
    """One letter to make: the formats it lacks, and its files that are still right."""

    recipient: str
    formats: tuple[str, ...]
    kept: tuple[FileRecord, ...] = ()
    # The recipient's entry itself: streamed to the worker with its task, so that no
    # process holds the whole list in memory. None: looked up in the campaign.
    entry: Recipient | None = None
    position: int = -1  # the recipient's place in the list, sent back with the result


def _verified(value: dt.date | bool) -> str | bool:
    """As the manifest has always written it: the date as text (ISO), or true/false."""
    return str(value) if isinstance(value, dt.date) else bool(value)


class LetterWorker:
    def __init__(self, config: WorkerConfig, loaded: Loaded | None = None) -> None:
        """`loaded`: the campaign and Composer the parent already built (in-process,
        or inherited through fork), so they are not loaded a second time."""
        from .manifest import letter_digest

        self.config = config
        if loaded is None:
            campaign = load_campaign(config.campaign_root, bundled=config.bundled)
            loaded = campaign, Composer(campaign, today=config.today, language=config.language)
        self.campaign, self.composer = loaded
        self._by_id: dict[str, Recipient] | None = None  # only for a task without its entry
        self.digest = letter_digest
        self.renderer: PdfRenderer | None = None
        if "pdf" in config.formats:
            from ..formats.pdf import PdfRenderer

            settings = self.campaign.config.campaign
            stylesheet = self.campaign.templates_dir / settings.stylesheet
            self.renderer = PdfRenderer(self.campaign.root, stylesheet, config.pdf_variant)
        self.mailer: LetterMailer | None = None
        if "eml" in config.formats:
            from ..formats.mime import LetterMailer

            self.mailer = LetterMailer(self.campaign, config.mail_from)

    def run(self, task: Task) -> Rendered | Failed:
        """Render one letter; failures come back as data, so the batch goes on."""
        recipient_id = task.recipient
        template = f"templates/{self.campaign.config.campaign.letter_template}"
        try:
            # The letter's bounds (memory, CPU time) hold for its PDF and email too.
            with limits.letter(template):
                return Rendered(self._render(task), task.position)
        except AdvocacyError as exc:
            return Failed(Failure.of(recipient_id, exc))
        except (MemoryError, limits.LimitReached) as exc:
            why = str(exc) if isinstance(exc, limits.LimitReached) else ""
            why = why or limits.memory_message("the letter")
            limit = LimitExceeded(f"{template} (recipient {recipient_id!r}): {why}")
            return Failed(Failure.of(recipient_id, limit))
        except OSError as exc:
            error = f"{exc.filename or self.config.out}: cannot write: {exc.strerror}"
            # A full or read-only disk fails every letter after this one too.
            return Failed(Failure(recipient_id, error, False), fatal=exc.errno in FATAL_ERRNOS)

    def _lookup(self, recipient_id: str) -> Recipient:
        if self._by_id is None:
            self._by_id = {r.id: r for r in self.campaign.recipients}
        return self._by_id[recipient_id]

    def _render(self, task: Task) -> LetterRecord:
        out, formats, own = self.config.out, task.formats, self.config.settings.get
        recipient = task.entry or self._lookup(task.recipient)
        withheld = recipient.address_withheld
        if withheld and self.config.no_address == "fail":
            raise RecipientError(wording.no_address_failure(recipient.id, withheld))
        letter = self.composer.compose(recipient, mark_missing=self.config.no_address == "mark")
        mailer = self.mailer if recipient.email and "eml" in formats else None
        if mailer is not None:
            mailer.recipient(recipient, letter)  # a bad address stops this letter, first
        warnings = list(letter.warnings)
        files = {item.format: item for item in task.kept}
        stem = f"{recipient.id}.{letter.language}"
        pdf: bytes | None = None
        html = letter.html
        # Not fsync'ed one by one: each file's size and sha256 are in the manifest and
        # are checked before a letter is reused or sent (manifest.file_intact).
        if self.renderer is not None and "pdf" in formats:
            # Laid out first: the HTML written is the one whose boxes were made to fit.
            pdf, problems, html = self.renderer.render(
                letter.html,
                f"templates/{letter.template} (recipient {recipient.id!r})",
                recipient.id,
            )
            warnings += [f"{recipient.id}: PDF: {problem}" for problem in problems]
        if "html" in formats:
            data = html.encode("utf-8")
            write_atomic(out / f"{stem}.html", data, durable=False)
            files["html"] = FileRecord.of(out, out / f"{stem}.html", data, own("html", ""))
        if pdf is not None:
            write_atomic(out / f"{stem}.pdf", pdf, durable=False)
            files["pdf"] = FileRecord.of(out, out / f"{stem}.pdf", pdf, own("pdf", ""))
        elif "pdf" in files and mailer is not None and self.config.attach_pdf:
            pdf = (out / files["pdf"].path).read_bytes()  # still right: attach it as it is
        if mailer is not None:
            from ..formats.mime import Attachment, build

            attached = Attachment(f"{stem}.pdf", pdf) if pdf and self.config.attach_pdf else None
            draft = mailer.draft(letter, recipient, attached)
            if draft.left_out:
                warnings.append(wording.remote_left_out(recipient.id, draft.left_out))
            data = build(draft)
            write_atomic(out / f"{stem}.eml", data, durable=False)
            files["eml"] = FileRecord.of(out, out / f"{stem}.eml", data, own("eml", ""))
        entry = LetterRecord(
            recipient=recipient.id,
            language=letter.language,
            country=recipient.country,
            languages=tuple(letter.languages),
            review=dict(letter.review),
            fell_back_from=letter.fell_back_from,
            locale=letter.locale,
            paper=letter.paper,
            subject=letter.subject,
            template=letter.template,
            address_block=not recipient.address_withheld,
            verified=_verified(recipient.verified),
            source=recipient.source,
            input_hash=self.digest(self.config.common_hash, recipient),
            files=tuple(sorted(files.values(), key=lambda item: item.path)),
            warnings=tuple(warnings),
        )
        entry = dataclasses.replace(entry, seal=seal_of(entry))
        append_log(out, entry)
        return entry


# One worker per pool process, built by the pool's initializer. An error while
# building it (a broken stylesheet, a missing library) is kept and returned for
# every letter, so the parent reports it instead of the pool hanging.
_WORKER: LetterWorker | None = None
_INIT_ERROR: AdvocacyError | None = None
# Set by the parent just before it forks the pool: the children start with it.
_INHERITED: Loaded | None = None


def inherit(loaded: Loaded | None) -> None:
    global _INHERITED
    _INHERITED = loaded


def init_process(config: WorkerConfig) -> None:
    global _WORKER, _INIT_ERROR
    try:
        _WORKER = LetterWorker(config, _INHERITED)
    except AdvocacyError as exc:
        _INIT_ERROR = exc
    # What the worker keeps for its life (the campaign, stylesheets, fonts, locale
    # data) is out of the collector's reach from here: each layout makes many objects,
    # and every full collection walked all of this again (15% of a letter's time).
    gc.freeze()


@contextmanager
def frozen() -> Iterator[None]:
    """The objects alive now, out of the collector's reach while the block runs: in
    the process that renders in-process, and in the parent just before it forks
    (the children start with them frozen, and do not copy their pages to count them).
    Only the young generations are collected first: a full collection walked the
    ~100,000 objects of the imports for 45 ms before every batch, to find ~80."""
    gc.collect(1)
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_in_process(task: Task) -> Rendered | Failed:
    if _WORKER is None:
        error = _INIT_ERROR or AdvocacyError("the render worker did not start")
        return Failed(Failure.of(task.recipient, error))
    return _WORKER.run(task)
