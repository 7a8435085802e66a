"""`advocacy translations`: extract, update, compile and report catalogs.

Wraps Babel so translators never need pybabel's flags. Messages come from the
campaign's templates, the bundled base template, and the translatable texts
of campaign.toml (the subject, every demand and every name in [names]).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from jinja2 import TemplateSyntaxError
from jinja2.ext import babel_extract

from ..errors import BadInput, TemplateError
from ..fsutil import is_within, write_atomic
from ..i18n import catalogs, l10n
from ..paths import ASSETS_DIR, CAMPAIGN_FILE, PACKAGE_DIR
from . import syntax
from .model import Campaign

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "false", "silent": "false"}
POT = "messages.pot"


FOLLOW_UP_TEMPLATE = "followup.html.j2"
FOLLOW_UP_SUBJECT = "Follow-up: %(subject)s"  # the follow-up's subject, before the first's


def follow_up_template(campaign: Campaign) -> tuple[Path, str, str]:
    """(file, template name, location in catalogs) of the follow-up letter: the
    campaign's own templates/followup.html.j2, else the bundled default."""
    own = campaign.templates_dir / FOLLOW_UP_TEMPLATE
    if own.is_file():
        return own, FOLLOW_UP_TEMPLATE, f"templates/{FOLLOW_UP_TEMPLATE}"
    name = f"advocacy/{FOLLOW_UP_TEMPLATE}"
    return ASSETS_DIR / "templates" / FOLLOW_UP_TEMPLATE, name, name


def _template_files(campaign: Campaign) -> Iterator[tuple[Path, str]]:
    yield ASSETS_DIR / "templates" / "base.html.j2", "advocacy/base.html.j2"
    path, _, shown = follow_up_template(campaign)
    if shown.startswith("advocacy/"):
        yield path, shown
    for path in sorted(campaign.templates_dir.rglob("*.j2")):
        # Hand-written per-language letters are not translated through catalogs; a
        # link out of the campaign is not read (its text would land in messages.pot).
        if path.name.count(".") > 2 or not is_within(path, campaign.root):
            continue
        yield path, path.relative_to(campaign.root).as_posix()


def campaign_messages(campaign: Campaign) -> list[tuple[str, str]]:
    """(msgid, location) for campaign.toml's subject and demands."""
    cfg = campaign.config
    found = [(cfg.campaign.subject, f"{CAMPAIGN_FILE}:campaign.subject")]
    found += [(d.text, f"{CAMPAIGN_FILE}:demands[{i}]") for i, d in enumerate(cfg.demands)]
    found += [(name, f"{CAMPAIGN_FILE}:names.{key}") for key, name in cfg.names.items()]
    return found


def extract_catalog(campaign: Campaign) -> Catalog:
    catalog = Catalog(project=campaign.config.campaign.title, fuzzy=False)
    for path, shown in _template_files(campaign):
        with path.open("rb") as handle:
            try:
                found = list(
                    extract(
                        babel_extract,  # type: ignore[arg-type]
                        handle,
                        keywords=KEYWORDS,
                        options=JINJA_OPTIONS,
                    )
                )
            except TemplateSyntaxError as exc:
                raise TemplateError(syntax.describe(exc, shown)) from None
        for lineno, message, comments, _context in found:
            catalog.add(message, locations=[(shown, lineno)], auto_comments=comments)
    for text, where in campaign_messages(campaign):
        catalog.add(text, locations=[(where, 0)])
    catalog.add(FOLLOW_UP_SUBJECT, locations=[(follow_up_template(campaign)[2], 0)])
    return catalog


# Templates of messages other than the letter (the relay cover note of `send
# --via`): extracted for translators, but no letter waits for their strings.
# The follow-up letter's strings are needed only by follow-ups (and the other way round).
AUXILIARY_TEMPLATES = (
    "templates/relay.txt.j2",
    f"templates/{FOLLOW_UP_TEMPLATE}",
    f"advocacy/{FOLLOW_UP_TEMPLATE}",
)


def required_ids(campaign: Campaign) -> set[str]:
    """The strings a catalog needs before letters are written in its language (for a
    follow-up campaign, track/followup.py: those of the follow-up letter)."""
    follow_up = follow_up_template(campaign)[2] if campaign.follow_ups else ""
    ids = set()
    for message in extract_catalog(campaign):
        places = {loc for loc, _ in message.locations}
        if follow_up:  # its template, the frame and campaign.toml; not the first letter's
            wanted = follow_up in places or any(
                p == "advocacy/base.html.j2" or p.startswith(CAMPAIGN_FILE) for p in places
            )
        else:
            wanted = bool(places - set(AUXILIARY_TEMPLATES))
        if message.id and wanted:
            ids.add(message.id if isinstance(message.id, str) else message.id[0])
    return ids


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=88, sort_output=False, include_previous=True)
    return buffer.getvalue()


def _writable(campaign: Campaign, command: str) -> None:
    """Never write into the installed package, nor into the example used only because
    no campaign was found."""
    if campaign.defaulted or is_within(campaign.root, PACKAGE_DIR):
        raise BadInput(
            f"advocacy translations {command}: the bundled example campaign is read-only; "
            "make your own with 'advocacy init my-campaign', then run it there"
        )


def extract_pot(campaign: Campaign) -> Path:
    _writable(campaign, "extract")
    target = campaign.root / "locales" / POT
    write_atomic(target, _po_bytes(extract_catalog(campaign)))
    return target


def update(campaign: Campaign, new_languages: list[str]) -> list[str]:
    """Merge the current messages into every catalog (and start new ones)."""
    from babel.messages.pofile import read_po

    _writable(campaign, "update")
    template = extract_catalog(campaign)
    done = []
    for language in sorted(set(catalogs.languages(campaign.root)) | set(new_languages)):
        try:
            locale = Locale.parse(language.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            raise BadInput(f"--lang {language!r} is not a known language code") from None
        path = catalogs.po_path(campaign.root, language)
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project=template.project, fuzzy=False)
            catalog.revision_date = dt.datetime.now(dt.UTC)
            review = path.parent.parent / catalogs.REVIEW_FILE
            if not review.exists():
                write_atomic(
                    review, b'state = "draft"\nnote = "started with advocacy translations update"\n'
                )
        catalog.update(template, update_header_comment=False)
        write_atomic(path, _po_bytes(catalog))
        done.append(language)
    return done


def compile_all(campaign: Campaign) -> list[str]:
    """Check every catalog (placeholders, markup) and write its .mo file."""
    from babel.messages.pofile import read_po

    _writable(campaign, "compile")
    done = []
    for language in catalogs.languages(campaign.root):
        catalogs.load(campaign.root, language)  # raises on a broken translation
        path = catalogs.po_path(campaign.root, language)
        with path.open("rb") as handle:
            catalog = read_po(handle)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        write_atomic(path.with_suffix(".mo"), buffer.getvalue())
        done.append(language)
    return done


@dataclass
class LanguageStatus:
    language: str
    name: str
    translated: int
    total: int
    fuzzy: int
    review: str
    complete: bool
    missing: list[str] = field(default_factory=list)  # the untranslated source strings

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def status(campaign: Campaign) -> list[LanguageStatus]:
    required = required_ids(campaign)
    rows = []
    fallback = l10n.language_of(campaign.config.campaign.fallback_language)
    infos = catalogs.load_all(campaign.root, required)
    if fallback not in infos:
        rows.append(
            LanguageStatus(
                fallback,
                l10n.language_name(fallback),
                len(required),
                len(required),
                0,
                "source",
                True,
            )
        )
    for language, info in infos.items():
        rows.append(
            LanguageStatus(
                language,
                l10n.language_name(language),
                len(required) - len(info.missing),
                len(required),
                len(info.fuzzy & required),
                info.review,
                info.complete,
                sorted(info.missing),
            )
        )
    return sorted(rows, key=lambda row: row.language)
