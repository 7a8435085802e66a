"""Compose one letter: sandboxed Jinja over the campaign and one recipient.

Templates may come from strangers: the environment is sandboxed (no attribute
walks to Python internals), undefined names are errors, HTML is escaped, and
the loader serves only files inside the campaign's templates folder and the
package's own base template.

Each letter is written in one language (or two, bilingual): the recipient's
first language that has a complete catalog or a hand-written template, else
the campaign's fallback language.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..errors import BadInput, CatalogError, TemplateError
from ..i18n import catalogs, l10n, msgtext
from ..paths import ASSETS_DIR
from . import glyphs, limits, protocol
from .address import AddressLine, address_block
from .failures import BASE_PREFIX, failure
from .filters import css_counters, css_string, url_markup
from .reference import letter_reference
from .sandbox import ContainedLoader, LetterEnvironment, sandbox
from .wording import no_address

POLICIES = ("recipient", "bilingual")
CONTINUATION_MARK = "<!-- continuations -->"


@dataclass
class Letter:
    recipient_id: str
    language: str  # "de", or "de+en" for a bilingual letter
    languages: list[str]
    locale: str
    paper: str
    subject: str
    title: str
    html: str
    template: str
    review: dict[str, str] = field(default_factory=dict)
    fell_back_from: str | None = None
    warnings: list[str] = field(default_factory=list)
    reference: str = ""  # "BY23-de-mfa": printed "Ref. ..." and carried in the email subject
    in_reply_to: str = ""  # a follow-up's email threads to the first letter's Message-ID


def make_environment(campaign: Campaign) -> LetterEnvironment:
    loader = jinja2.ChoiceLoader(
        [
            ContainedLoader(str(campaign.templates_dir), campaign.root),
            jinja2.PrefixLoader(
                {BASE_PREFIX: ContainedLoader(str(ASSETS_DIR / "templates"), ASSETS_DIR)}
            ),
        ]
    )
    env = sandbox(loader, html=True)
    env.filters["css_string"] = css_string
    env.filters["css_counters"] = css_counters
    env.filters["url"] = url_markup
    return env


def _in_language(value: str | dict[str, str], language: str) -> str:
    """One text, or the language's own from a language -> text map (else English)."""
    if isinstance(value, dict):
        return value.get(language) or value.get("en") or next(iter(value.values()), "")
    return value


def _nobreak(text: str) -> str:
    return text.replace(" ", "\u00a0")


def handwritten_languages(campaign: Campaign) -> set[str]:
    stem = campaign.config.campaign.letter_template.removesuffix(".html.j2")
    return {
        path.name.removeprefix(f"{stem}.").removesuffix(".html.j2")
        for path in campaign.templates_dir.glob(f"{stem}.*.html.j2")
    }


class Composer:
    """Renders letters for one campaign; reuse it across recipients."""

    def __init__(
        self, campaign: Campaign, *, today: dt.date | None = None, language: str | None = None
    ) -> None:
        from ..campaign.translations import required_ids

        self.campaign = campaign
        settings = campaign.config.campaign
        self.env = make_environment(campaign)
        self.date = settings.date or today or dt.date.today()
        self.fallback = l10n.language_of(settings.fallback_language)
        self.handwritten = handwritten_languages(campaign)
        # language -> why its catalog is refused: its letters fail, the others go on
        self.broken: dict[str, str] = {}
        self.catalogs = catalogs.load_all(campaign.root, required_ids(campaign), broken=self.broken)
        self.forms = protocol.table(campaign.root)
        self.policy = self._policy(language or settings.language, bool(language))
        self._base_context = self._campaign_context()
        # One environment per (language, locale), made once: composing never changes
        # shared state, so one Composer can serve several threads (the preview).
        self._environments: dict[tuple[str, str, str], LetterEnvironment] = {}
        self._environments_lock = threading.Lock()

    def _environment(
        self, language: str, locale: Any, info: catalogs.CatalogInfo | None, numbers: Any
    ) -> LetterEnvironment:
        key = (language, str(locale), str(numbers))
        with self._environments_lock:
            env = self._environments.get(key)
            if env is None:
                env = self._environments[key] = self._overlay(locale, info, numbers)
            return env

    def _overlay(
        self, locale: Any, info: catalogs.CatalogInfo | None, numbers: Any
    ) -> LetterEnvironment:
        env = self.env.overlay()
        # An overlay shares its parent's globals and filters dicts: give it its own.
        env.globals = dict(self.env.globals)
        env.filters = dict(self.env.filters)
        gettext, ngettext = catalogs.gettext_callables(info, html=True)
        # The overlay's own copy of the i18n extension installs into the overlay
        # (`install_gettext_callables` on the overlay is the parent's bound method).
        i18n = env.extensions["jinja2.ext.InternationalizationExtension"]
        i18n._install_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.filters["date"] = lambda value, fmt="long": l10n.long_date(
            dt.date.fromisoformat(value) if isinstance(value, str) else value, locale
        )
        env.filters["number"] = lambda value: l10n.number(value, numbers)
        env.filters["body_start"] = protocol.body_start
        env.filters["country"] = lambda code: l10n.country_name(str(code), locale)
        return env

    # -- language choice -------------------------------------------------------

    def available(self, language: str) -> bool:
        info = self.catalogs.get(language)
        return (
            language == self.fallback
            or language in self.handwritten
            or (info is not None and info.complete)
        )

    def available_languages(self) -> list[str]:
        return sorted(
            lang
            for lang in {self.fallback, *self.handwritten, *self.catalogs}
            if self.available(lang)
        )

    def _policy(self, policy: str, from_option: bool) -> str:
        if policy in POLICIES:
            return policy
        where = "--lang" if from_option else "campaign.toml: campaign.language"
        try:
            l10n.parse_language_tag(policy)
        except ValueError:
            raise BadInput(
                f"{where} {policy!r} is neither 'recipient', 'bilingual' nor a language code"
            ) from None
        language = l10n.language_of(policy)
        if language in self.broken:  # every letter would be in it
            raise CatalogError(self.broken[language])
        if not self.available(language):
            info = self.catalogs.get(language)
            why = (
                f"its catalog lacks {len(info.missing)} of the campaign's strings "
                "(run 'advocacy translations status')"
                if info
                else f"it has no locales/{language} catalog and no letter.{language}.html.j2"
            )
            raise BadInput(
                f"{where} {language}: this campaign cannot write that language: {why}; "
                f"available: {', '.join(self.available_languages())}"
            )
        return language

    def choose(self, recipient: Recipient) -> tuple[list[str], str | None]:
        """The letter's languages and, when it fell back, the language it wanted."""
        if self.policy not in POLICIES:
            return [self.policy], None
        wanted = [l10n.language_of(tag) for tag in recipient.languages]
        primary = next(
            (lang for lang in wanted if self.available(lang) or lang in self.broken),
            self.fallback,
        )
        if primary in self.broken:  # never a silent fallback past a refused catalog
            raise CatalogError(
                f"{self.broken[primary]} (the {primary} letters are not written until it is fixed)"
            )
        fell_back = wanted[0] if primary != wanted[0] else None
        languages = [primary]
        if self.policy == "bilingual" and primary != self.fallback:
            languages.append(self.fallback)
        return languages, fell_back

    def intended(self, recipient: Recipient) -> str | None:
        """The language the recipient's letter is meant to be in when the campaign can
        write it at all: the first of theirs with a catalog, a hand-written letter or
        the fallback. None when the language is fixed by the campaign or --lang."""
        if self.policy not in POLICIES:
            return None
        for tag in recipient.languages:
            language = l10n.language_of(tag)
            if language in self.catalogs or language in self.handwritten:
                return language
            if language in self.broken:
                return language
            if language == self.fallback:
                return language
        return None

    def review_state(self, language: str) -> str:
        if language in self.handwritten:
            return "hand-written"
        if language == self.fallback or language not in self.catalogs:
            return "source"
        return self.catalogs[language].review

    # -- rendering -------------------------------------------------------------

    def _campaign_context(self) -> dict[str, Any]:
        cfg = self.campaign.config
        return {
            "campaign": cfg.campaign.model_dump(),
            "resolution": cfg.resolution.model_dump() if cfg.resolution else {},
            "sender": cfg.sender.model_dump(),
            "signature": cfg.signature.model_dump() if cfg.signature else None,
            "cosignatories": [p.model_dump() for p in self.campaign.cosignatories],
            "facts": cfg.facts,
        }

    def _fail(self, exc: BaseException, recipient: Recipient, what: str = "") -> TemplateError:
        return failure(exc, self.campaign.root, recipient.id, self.env.filters, what)

    def _check_glyphs(self, recipient: Recipient, language: str, lines: list[str]) -> None:
        """Refuse text the font cannot print: the fields as given, and the address
        block as printed (its formatter uppercases some lines: 'ʇ' becomes 'Ʇ')."""
        fields = {
            "organisation": recipient.text_in(recipient.organisation, language),
            "addressee": recipient.text_in(recipient.addressee, language),
            "name": recipient.name,
            "addressee_person.name": recipient.addressee_person.name
            if recipient.addressee_person
            else "",
            "salutation": recipient.salutation.get(language, ""),
            **{f"address.{k}": v for k, v in recipient.address.model_dump().items()},
        }
        printed = glyphs.missing("\n".join(lines))

        def unprintable(text: str) -> list[str]:
            case_forms = text.upper() + text.lower()
            return glyphs.missing(text) or [ch for ch in printed if ch in case_forms]

        # A character only the formatter made belongs to the address as a whole.
        name, absent = next(
            ((name, found) for name, text in fields.items() if (found := unprintable(text))),
            ("address", printed),
        )
        if absent:
            raise BadInput(
                f"recipient {recipient.id!r}: field '{name}' has characters the letter's "
                f"font cannot print: {glyphs.describe(absent)}; it covers Latin, Greek and "
                "Cyrillic scripts, so write the text in one of those"
            )

    def _template_for(self, language: str) -> str:
        base = self.campaign.config.campaign.letter_template
        if language in self.handwritten:
            return f"{base.removesuffix('.html.j2')}.{language}.html.j2"
        return base

    def _part(
        self,
        recipient: Recipient,
        language: str,
        *,
        continuation: bool,
        warnings: list[str],
        mark_missing: bool = True,
    ) -> tuple[str, dict[str, Any], str]:
        cfg = self.campaign.config
        locale = l10n.letter_locale(language, recipient.address_country)
        numbers = l10n.number_locale(language, recipient.languages, locale)
        info = None if language in self.handwritten else self.catalogs.get(language)
        env = self._environment(language, locale, info, numbers)
        gettext, _ = catalogs.gettext_callables(info)
        courtesy = protocol.courtesy(recipient, language, forms=self.forms)
        if courtesy.note:
            warnings.append(f"{recipient.id}: {courtesy.note}")

        withheld = recipient.address_withheld
        block: list[AddressLine] = []
        if withheld and not continuation:
            warnings.append(f"{recipient.id}: {no_address(withheld).message}")
        elif not withheld:
            block = address_block(recipient, sender_country=cfg.sender.country, language=language)
        lines = [line.text for line in block]
        self._check_glyphs(recipient, language, lines)
        resolution = cfg.resolution
        title = url = ""
        if resolution:
            title = _in_language(resolution.title, language)
            url = _in_language(resolution.url, language)
        letter_ctx: dict[str, Any] = {
            "part": "continuation" if continuation else "full",
            "language": language,
            "language_name": l10n.language_name(language, locale),
            "locale": str(locale),
            "paper": recipient.paper_size,
            # No line break inside a date ("14. / december" reads badly).
            "date": _nobreak(l10n.long_date(self.date, locale)),
            "iso_date": self.date.isoformat(),
            "resolution_date": _nobreak(
                l10n.long_date(
                    resolution.date,
                    locale,
                    protocol.date_in_text(self.forms, language, recipient.country),
                )
            )
            if resolution
            else "",
            "resolution_title": title,
            "resolution_url": url,
            "address_lines": lines,
            "address_block": [line.__dict__ for line in block],
            "address_withheld": bool(withheld),
            "address_mark": mark_missing,  # ADDRESS MISSING in the window of such a letter
            "organisation": recipient.text_in(recipient.organisation, language),
            "country_name": l10n.country_name(recipient.country, locale),
            "salutation": courtesy.salutation,
            "close": courtesy.close,
            "appellation": courtesy.appellation,
            "body_lower": courtesy.body_lower,
            "reference": letter_reference(cfg.campaign.reference, recipient.id),
        }
        context = {
            **self._base_context,
            "names": {key: gettext(name) for key, name in cfg.names.items()},
            "recipient": recipient.model_dump(mode="json"),
            "letter": letter_ctx,
        }
        demands = []
        for index, demand in enumerate(cfg.demands):  # a name: {{ names.statkevich }}
            text = self._text(env, demand.text, gettext, context, recipient, f"demands[{index}]")
            demands.append({**demand.model_dump(), "text": Markup(text).unescape()})
        context["demands"] = demands
        subject = self._text(
            env, cfg.campaign.subject, gettext, context, recipient, "campaign.subject"
        )
        # Variables in the subject were escaped for HTML; the subject is plain text
        # (the base template escapes it once, the email header not at all). The
        # printed subject keeps the dates' no-break spaces (str.split() would take
        # them for spaces: "14 / December 2023"); the email and manifest get spaces.
        printed = re.sub(r"[ \t\r\n\f\v]+", " ", Markup(subject).unescape()).strip()
        thread = self.campaign.follow_ups.get(recipient.id)
        if thread is not None:  # a follow-up: it names the first letter's date and reference
            first = {"iso_date": thread.day.isoformat(), "reference": letter_ctx["reference"]}
            date = _nobreak(l10n.long_date(thread.day, locale))
            letter_ctx["first_letter"] = {**first, "date": date, "subject": printed}
            printed = gettext("Follow-up: %(subject)s") % {"subject": printed}
        letter_ctx["subject_printed"] = printed
        letter_ctx["subject"] = " ".join(printed.split())
        template_name = self._template_for(language)
        try:
            html = env.get_template(template_name).render(context)
        except Exception as exc:  # template code can raise anything (range too big...)
            raise self._fail(exc, recipient) from None
        return html, letter_ctx, template_name

    def _text(
        self,
        env: LetterEnvironment,
        source: str,
        gettext: catalogs.Gettext,
        context: dict[str, Any],
        recipient: Recipient,
        where: str,
    ) -> str:
        """A campaign.toml text as HTML; a translation of it is never compiled."""
        try:
            return msgtext.render(env, source, gettext(source), context)
        except Exception as exc:  # template code can raise anything (range too big...)
            raise self._fail(exc, recipient, f"campaign.toml: {where}") from None

    def compose(self, recipient: Recipient, *, mark_missing: bool = True) -> Letter:
        """The letter; `mark_missing=False` leaves an unchecked address's window empty
        (an email's copy) instead of marking it ADDRESS MISSING (paper)."""
        languages, fell_back = self.choose(recipient)
        warnings: list[str] = []
        with limits.letter(f"templates/{self._template_for(languages[0])}"):
            html, first, template = self._part(
                recipient,
                languages[0],
                continuation=False,
                warnings=warnings,
                mark_missing=mark_missing,
            )
            for language in languages[1:]:
                more, _, _ = self._part(recipient, language, continuation=True, warnings=warnings)
                html = html.replace(CONTINUATION_MARK, more + CONTINUATION_MARK, 1)
        thread = self.campaign.follow_ups.get(recipient.id)
        return Letter(
            recipient_id=recipient.id,
            language="+".join(languages),
            languages=languages,
            locale=first["locale"],
            paper=recipient.paper_size,
            subject=first["subject"],
            title=f"{first['subject']} — {first['organisation']}",
            html=html,
            template=template,
            review={lang: self.review_state(lang) for lang in languages},
            fell_back_from=fell_back,
            warnings=warnings,
            reference=first["reference"],
            in_reply_to=thread.message_id
            if (thread := self.campaign.follow_ups.get(recipient.id))
            else "",
        )
