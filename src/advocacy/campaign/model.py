"""The campaign folder: campaign.toml, templates, recipient lists.

Every path the campaign names must stay inside its folder (no `..`, no
symlink out): campaign folders travel between groups and are untrusted.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..csvfile import dict_reader
from ..errors import CampaignError
from ..fsutil import is_within
from ..i18n import l10n
from ..paths import CAMPAIGN_FILE
from .recipients import Recipient, load_all
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


class Sender(_Strict):
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
    cafile: str = ""  # a CA or self-signed certificate to trust, inside the campaign folder
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


@dataclass
class Campaign:
    root: Path
    config: CampaignFile
    recipients: list[Recipient]
    cosignatories: list[Person] = field(default_factory=list)
    bundled: bool = False
    recipient_files: list[Path] = field(default_factory=list)
    defaulted: bool = False  # the bundled example, used because no campaign was found

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


def resolve_inside(root: Path, relative: str, what: str) -> Path:
    """`relative` under `root`, refusing anything that leaves the folder."""
    candidate = root / relative
    if Path(relative).is_absolute() or not is_within(candidate, root):
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


def _read_cosignatories(path: Path, shown: str) -> list[Person]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CampaignError(f"{shown}: not found (campaign.cosignatories_csv)") from None
    except UnicodeDecodeError:
        raise CampaignError(f"{shown}: is not UTF-8 text; save it as 'CSV UTF-8'") from None
    people = []
    reader = dict_reader(text)
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not any(clean.values()):
            continue
        try:
            people.append(Person.model_validate(clean))
        except ValidationError as exc:
            name, text = first_problem(exc, unknown="is not a known column", model=Person)
            raise CampaignError(
                f"{shown}: line {reader.line_num}: column '{name}' {text}; columns are name, "
                "role, organisation"
            ) from None
    return people


def load_campaign(root: Path, *, bundled: bool = False) -> Campaign:
    root = root.resolve()
    config = _validate(_load_toml(root / CAMPAIGN_FILE))
    settings = config.campaign

    for name in (settings.letter_template, settings.stylesheet):
        resolve_inside(root / "templates", name, "template")
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
    if settings.cosignatories_csv:
        path = resolve_inside(root, settings.cosignatories_csv, "cosignatories_csv")
        cosignatories += _read_cosignatories(path, settings.cosignatories_csv)

    return Campaign(root, config, recipients, cosignatories, bundled, files)
