"""The campaign folder: campaign.toml, templates, recipient lists.

Every path the campaign names must stay inside its folder (no `..`, no
symlink out): campaign folders travel between groups and are untrusted.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..csvfile import dict_reader
from ..errors import CampaignError
from ..fsutil import is_within, links_out
from ..i18n import l10n
from ..paths import CAMPAIGN_FILE
from .recipients import Recipient, char_problem, load_all
from .validation import first_problem, user_date

# Files a letter may pull in besides its templates (stylesheets, images, fonts), with
# the type the preview serves them as. One list: the incremental digest, the preview's
# watcher and its file route all read it.
RESOURCE_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
TEMPLATE_SUFFIXES = (".j2", *RESOURCE_TYPES)
CATALOG_SUFFIXES = (".po", ".toml")  # catalogs and their review.toml
# Co-signatories one letter may list ([[cosignatories]] and the CSV together). A letter
# with 20,000 took 64 s and 1.1 GB to lay out; 1,000 fill 14 pages in 142 MB (59 s on a
# shared 2-core machine under a load of 9).
MAX_COSIGNATORIES = 1_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Resolution(_Strict):
    title: str | dict[str, str]  # one text, or language -> title as published
    title_source: str = ""
    date: dt.date
    procedure: str = ""
    url: str | dict[str, str] = ""  # one URL, or language -> URL of that language's page
    vote: dict[str, int] = Field(default_factory=dict)
    vote_source: str = ""

    _date = field_validator("date", mode="before")(lambda value: user_date(value))


class Demand(_Strict):
    text: str
    summary: str = ""
    para: str = ""
    sources: list[str] = Field(default_factory=list)


def _printable(value: Any) -> Any:
    """A text of the sender or a signatory: no control or bidi character (as recipients)."""
    problem = char_problem(value) if isinstance(value, str) else None
    if problem:
        raise ValueError(problem)
    return value


class Sender(_Strict):
    _printable = field_validator("*")(_printable)
    organisation: str
    name: str = ""
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    reply_to: str = ""  # Reply-To of email letters, when replies should go elsewhere
    phone: str = ""
    web: str = ""
    placeholder: bool = False

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value and value.upper() not in l10n.known_territories():
            raise ValueError(f"unknown country code {value!r}; use ISO 3166-1 alpha-2")
        return value.upper()


class Person(_Strict):
    _printable = field_validator("*")(_printable)
    name: str
    role: str = ""
    organisation: str = ""


class Signature(Person):
    image: str = ""
    image_alt: str = ""


class Settings(_Strict):
    title: str
    subject: str
    language: str = "en"
    fallback_language: str = "en"
    # A catalog that lacks new or changed sentences: "stop" makes none of its letters
    # (the run exits 2 and says what to translate), "fallback" writes them in
    # fallback_language.
    missing_translation: Literal["stop", "fallback"] = "stop"
    date: dt.date | None = None
    letter_template: str = "letter.html.j2"
    stylesheet: str = "letter.css"
    recipients: list[str] = Field(default_factory=lambda: ["recipients/*.yaml", "recipients/*.csv"])
    cosignatories_csv: str = ""
    # Printed on every letter as "Ref. <reference>-<recipient id>", so that a postal
    # answer can be matched to its letter (see letter/reference.py).
    reference: str = ""

    _date = field_validator("date", mode="before")(lambda value: user_date(value))


class SmtpSettings(_Strict):
    """`[smtp]`: where `advocacy send` delivers; never a password (see README)."""

    url: str = ""  # smtp://user@host:587 (STARTTLS), smtps://host:465, smtp+plain://127.0.0.1
    rate: str = ""  # "30/min"
    connections: int = Field(default=0, ge=0)  # parallel sessions; 0: the default
    # Never used (a campaign must not choose whom the login goes to): give --cafile.
    cafile: str = ""
    helo: str = ""  # the name given in EHLO; default: the sender's domain
    dkim_key: str = ""  # a PEM private key (mode 600) to DKIM-sign each message with
    dkim_selector: str = ""
    dkim_domain: str = ""  # default: the sender's domain


class RenderSettings(_Strict):
    """`[render]`: how letters are made."""

    # A letter whose recipient has no checked address: "fail" (not rendered, the
    # default) or "mark" (rendered with ADDRESS MISSING in the window).
    no_address: Literal["fail", "mark"] = "fail"


class CampaignFile(_Strict):
    campaign: Settings
    resolution: Resolution | None = None
    demands: list[Demand] = Field(default_factory=list)
    sender: Sender
    signature: Signature | None = None
    cosignatories: list[Person] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    # key -> a person's name in the source language; catalogs give each language's form
    names: dict[str, str] = Field(default_factory=dict)
    smtp: SmtpSettings = SmtpSettings()
    render: RenderSettings = RenderSettings()


@dataclass(frozen=True)
class Thread:
    """The first letter a follow-up refers to (track/followup.py)."""

    day: dt.date  # when it was sent, posted or delivered
    message_id: str = ""  # the first email's Message-ID: the follow-up's In-Reply-To


@dataclass
class Campaign:
    root: Path
    config: CampaignFile
    recipients: Sequence[Recipient]
    cosignatories: list[Person] = field(default_factory=list)
    bundled: bool = False
    recipient_files: list[Path] = field(default_factory=list)
    defaulted: bool = False  # the bundled example, used because no campaign was found
    # Set for follow-up letters only: recipient id -> the first letter they follow up.
    follow_ups: dict[str, Thread] = field(default_factory=dict)

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    def source_files(self, *, recipients: bool = True) -> list[Path]:
        """Every file a letter can be made from, sorted: campaign.toml, templates and
        the styles, images and fonts beside them, catalogs, the signature image, the
        co-signatories CSV and (unless `recipients=False`) the recipient lists.
        Files outside the campaign folder (through a link) are left out."""
        root = self.root
        found = {root / CAMPAIGN_FILE}
        for folder, suffixes in ((self.templates_dir, TEMPLATE_SUFFIXES),
                                 (root / "locales", CATALOG_SUFFIXES)):  # fmt: skip
            if folder.is_dir():
                found.update(
                    p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file()
                )
        # Images and styles at the top of the folder: a template may name them there.
        found.update(p for p in root.glob("*") if p.suffix.lower() in RESOURCE_TYPES)
        settings = self.config.campaign
        signature = self.config.signature
        for relative in (signature.image if signature else "", settings.cosignatories_csv):
            if relative:
                found.add(root / relative)
        if recipients:
            found.update(self.recipient_files)
        return sorted(p for p in found if p.is_file() and is_within(p, root))

    def path(self, relative: str, what: str) -> Path:
        return resolve_inside(self.root, relative, what)


def resolve_inside(root: Path, relative: str, what: str, *, under: str = "") -> Path:
    """`relative` under `root` (or its folder `under`), refusing anything that leaves
    either, whatever links on the way say."""
    base = root / under
    candidate = base / relative
    if (
        Path(relative).is_absolute()
        or not is_within(candidate, base)
        or not is_within(candidate, root)
    ):
        raise CampaignError(
            f"{CAMPAIGN_FILE}: {what} {relative!r} points outside the campaign folder; "
            "keep every file of a campaign inside its folder"
        )
    return candidate


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CampaignError(
            f"{path}: not found; give a campaign folder that has {CAMPAIGN_FILE}, "
            "or run 'advocacy init DIR' to make one"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        if re.search(r"=\s*\d{1,2}[./]\d{1,2}[./]\d{4}", path.read_text(encoding="utf-8-sig")):
            hint = "; write a date as 2026-11-30, without quotes"
        raise CampaignError(f"{CAMPAIGN_FILE}: malformed TOML: {exc}{hint}") from None
    except UnicodeDecodeError:
        raise CampaignError(f"{CAMPAIGN_FILE}: is not UTF-8 text; save it as UTF-8") from None


def _validate(data: dict[str, Any]) -> CampaignFile:
    try:
        return CampaignFile.model_validate(data)
    except ValidationError as exc:
        where, text = first_problem(
            exc,
            unknown="is not a known setting; check its spelling against the bundled campaign.toml",
            model=CampaignFile,
        )
        raise CampaignError(f"{CAMPAIGN_FILE}: '{where}' {text}") from None


def _too_many(shown: str) -> CampaignError:
    return CampaignError(
        f"{shown}: more than {MAX_COSIGNATORIES:,} co-signatories; one letter lists at "
        "most that many, so name the groups' networks instead of every member"
    )


def _read_cosignatories(path: Path, shown: str, room: int) -> list[Person]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CampaignError(f"{shown}: not found (campaign.cosignatories_csv)") from None
    except UnicodeDecodeError:
        raise CampaignError(f"{shown}: is not UTF-8 text; save it as 'CSV UTF-8'") from None
    people: list[Person] = []
    reader = dict_reader(text)
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not any(clean.values()):
            continue
        if len(people) >= room:  # stop reading: the rest of a huge file is never parsed
            raise _too_many(shown)
        try:
            people.append(Person.model_validate(clean))
        except ValidationError as exc:
            name, text = first_problem(exc, unknown="is not a known column", model=Person)
            raise CampaignError(
                f"{shown}: line {reader.line_num}: column '{name}' {text}; columns are name, "
                "role, organisation"
            ) from None
    return people


# The folders a campaign's files live in: each must be a folder of the campaign itself,
# not a link to one elsewhere (a `templates` linked to `..` would let a template include
# any file beside the campaign).
CAMPAIGN_FOLDERS = ("templates", "locales", "recipients")


def _refuse_links_out(root: Path) -> None:
    for name in (CAMPAIGN_FILE, *CAMPAIGN_FOLDERS):
        if links_out(root / name, root):
            raise CampaignError(
                f"{name}: is a link to a place outside the campaign folder; copy the files "
                "into the campaign folder instead"
            )


def load_campaign(root: Path, *, bundled: bool = False) -> Campaign:
    root = root.resolve()  # once: every file below is checked against this folder
    _refuse_links_out(root)
    config = _validate(_load_toml(root / CAMPAIGN_FILE))
    settings = config.campaign

    for name in (settings.letter_template, settings.stylesheet):
        resolve_inside(root, name, "template", under="templates")
    if config.signature and config.signature.image:
        image = resolve_inside(root, config.signature.image, "signature.image")
        if not image.is_file():
            raise CampaignError(f"{CAMPAIGN_FILE}: signature.image {str(image)!r} not found")
        if not config.signature.image_alt:
            raise CampaignError(
                f"{CAMPAIGN_FILE}: 'signature.image_alt' is required with an image; "
                "describe it (e.g. 'Signature of Jane Doe') for accessible PDFs"
            )

    files: list[Path] = []
    for pattern in settings.recipients:
        resolve_inside(root, pattern.split("*")[0] or ".", "recipients")
        for path in sorted(root.glob(pattern)):
            if not is_within(path, root):
                raise CampaignError(
                    f"{path.relative_to(root)}: is a link to a file outside the campaign "
                    "folder; copy the list into the folder instead"
                )
            files.append(path)
    if not files:
        raise CampaignError(
            f"{CAMPAIGN_FILE}: no recipient lists match {settings.recipients}; "
            "add a recipients/*.yaml or *.csv file"
        )
    recipients = load_all(files, display_root=root)

    cosignatories = list(config.cosignatories)
    if len(cosignatories) > MAX_COSIGNATORIES:
        raise _too_many(f"{CAMPAIGN_FILE}: [[cosignatories]]")
    if settings.cosignatories_csv:
        path = resolve_inside(root, settings.cosignatories_csv, "cosignatories_csv")
        room = MAX_COSIGNATORIES - len(cosignatories)
        cosignatories += _read_cosignatories(path, settings.cosignatories_csv, room)

    return Campaign(root, config, recipients, cosignatories, bundled, files)
