"""`advocacy render`: the campaign's letters as files in an output folder.

Library code: it reports progress and warnings through a `Reporter` and
raises `AdvocacyError`s; it never prints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import __version__, l10n, sysdeps
from .bundled import find_campaign
from .campaign import Campaign, load_campaign
from .compose import Composer, Letter
from .errors import BadInput, OutputError
from .fsutil import write_atomic
from .plan import select
from .recipients import Recipient

MANIFEST = "manifest.json"
FORMATS = ("pdf", "html")


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, recipient_id: str) -> None: ...
    def warn(self, message: str) -> None: ...


class SilentReporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def start(self, total: int) -> None:
        pass

    def advance(self, recipient_id: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class RenderOptions:
    campaign: Path | None = None
    selectors: Sequence[str] = ()
    formats: Sequence[str] = ("pdf",)
    out: Path = Path("letters")
    force: bool = False
    pdf_variant: str = "pdf/ua-1"
    language: str | None = None
    today: dt.date | None = None


@dataclass
class RenderSummary:
    campaign: str
    campaign_dir: str
    out: str
    letters: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "campaign_dir": self.campaign_dir,
            "out": self.out,
            "rendered": len(self.letters),
            "files": sum(len(entry["files"]) for entry in self.letters),
            "seconds": round(self.seconds, 3),
            "warnings": self.warnings,
            "letters": self.letters,
        }


def _check_out_dir(out: Path, force: bool, *, create: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder; choose another --out")
    foreign = out.is_dir() and not force and not (out / MANIFEST).exists()
    if foreign and any(not p.name.startswith(".") for p in out.iterdir()):
        raise BadInput(
            f"{out}: is not empty and holds no {MANIFEST} from an earlier render; "
            "choose another --out, or use --force to write into it anyway"
        )
    if not create:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from None


def _load_manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None


def _file_entry(path: Path, out: Path, data: bytes) -> dict[str, Any]:
    return {
        "path": path.relative_to(out).as_posix(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def _static_warnings(campaign: Campaign) -> list[str]:
    warnings = []
    if campaign.config.sender.placeholder:
        warnings.append(
            "campaign.toml: the sender is an example placeholder; set [sender] and "
            "[signature] to your own organisation before printing"
        )
    speed = sysdeps.speed_warning()
    if speed:
        warnings.append(speed)
    return warnings


def _letter_warnings(recipient: Recipient) -> list[str]:
    return [] if recipient.is_verified or recipient.address_withheld else [recipient.id]


def render(options: RenderOptions, reporter: Reporter | None = None) -> RenderSummary:
    reporter = reporter or SilentReporter()
    started = time.perf_counter()
    for fmt in options.formats:
        if fmt not in FORMATS:
            raise BadInput(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
    root, bundled = find_campaign(options.campaign)
    campaign = load_campaign(root, bundled=bundled)
    recipients = select(campaign.recipients, options.selectors)
    out = options.out
    _check_out_dir(out, options.force, create=False)

    summary = RenderSummary(campaign.config.campaign.title, str(campaign.root), str(out))
    for message in _static_warnings(campaign):
        summary.warnings.append(message)
        reporter.warn(message)

    composer = Composer(campaign, today=options.today, language=options.language)
    # Compose every letter once before writing anything: a template or data
    # error then stops the run with nothing written, not halfway through.
    for recipient in recipients:
        composer.compose(recipient)
    created = not out.exists()
    _check_out_dir(out, options.force, create=True)
    try:
        return _render_letters(options, campaign, recipients, composer, summary, reporter, started)
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()  # leave no trace of a run that wrote nothing
        raise


def _render_letters(
    options: RenderOptions,
    campaign: Campaign,
    recipients: list[Recipient],
    composer: Composer,
    summary: RenderSummary,
    reporter: Reporter,
    started: float,
) -> RenderSummary:
    out = options.out
    renderer = None
    if "pdf" in options.formats:
        from .pdf import PdfRenderer

        stylesheet = campaign.templates_dir / campaign.config.campaign.stylesheet
        renderer = PdfRenderer(campaign.root, stylesheet, options.pdf_variant)

    manifest = _load_manifest(out)
    entries: dict[str, Any] = {
        f"{e.get('recipient')}.{e.get('language')}": e
        for e in manifest.get("letters", [])
        if isinstance(e, dict)
    }
    unverified: list[str] = []
    fell_back: list[str] = []
    drafted: set[str] = set()
    reporter.start(len(recipients))
    for recipient in recipients:
        letter: Letter = composer.compose(recipient)
        for message in letter.warnings:
            summary.warnings.append(message)
            reporter.warn(message)
        for language, state in letter.review.items():
            if state in ("machine-drafted", "draft") and language not in drafted:
                drafted.add(language)
                message = (
                    f"{l10n.language_name(language)} text is {state}; have a native speaker "
                    f"review locales/{language}"
                )
                summary.warnings.append(message)
                reporter.warn(message)
        if letter.fell_back_from:
            fell_back.append(f"{recipient.id} ({letter.fell_back_from} -> {letter.language})")
        unverified += _letter_warnings(recipient)
        files = []
        stem = f"{recipient.id}.{letter.language}"
        if "html" in options.formats:
            data = letter.html.encode("utf-8")
            _write(out / f"{stem}.html", data)
            files.append(_file_entry(out / f"{stem}.html", out, data))
        if renderer is not None:
            pdf, problems = renderer.render(
                letter.html, f"templates/{letter.template} (recipient {recipient.id!r})"
            )
            for problem in problems:
                message = f"{recipient.id}: PDF: {problem}"
                summary.warnings.append(message)
                reporter.warn(message)
            _write(out / f"{stem}.pdf", pdf)
            files.append(_file_entry(out / f"{stem}.pdf", out, pdf))
        entry = {
            "recipient": recipient.id,
            "country": recipient.country,
            "language": letter.language,
            "languages": letter.languages,
            "review": letter.review,
            "fell_back_from": letter.fell_back_from,
            "locale": letter.locale,
            "paper": letter.paper,
            "subject": letter.subject,
            "template": letter.template,
            "address_block": not recipient.address_withheld,
            "verified": recipient.verified if recipient.verified else False,
            "source": recipient.source,
            "files": files,
            "warnings": letter.warnings,
        }
        entries[f"{recipient.id}.{letter.language}"] = json.loads(json.dumps(entry, default=str))
        summary.letters.append(entries[f"{recipient.id}.{letter.language}"])
        reporter.advance(recipient.id)

    if fell_back:
        message = (
            f"{len(fell_back)} letter(s) are not in the recipient's first language, which has "
            f"no complete translation: {', '.join(fell_back)}"
        )
        summary.warnings.append(message)
        reporter.warn(message)
    if unverified:
        message = (
            f"{len(unverified)} recipient(s) are not verified with the office itself "
            f"({', '.join(unverified[:5])}{', ...' if len(unverified) > 5 else ''}); "
            "check addresses before sending"
        )
        summary.warnings.append(message)
        reporter.warn(message)

    # Keep entries of earlier runs only while their files are still there.
    kept = [
        e
        for e in entries.values()
        if all((out / f.get("path", "")).is_file() for f in e.get("files", []))
    ]
    manifest = {
        "tool": f"advocacy {__version__}",
        "campaign": campaign.config.campaign.title,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "letters": sorted(kept, key=lambda e: (e["recipient"], e["language"])),
    }
    _write(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n")
    summary.seconds = time.perf_counter() - started
    return summary
