"""Compose one letter: sandboxed Jinja over the campaign and one recipient.

Templates may come from strangers: the environment is sandboxed (no attribute
walks to Python internals), undefined names are errors, HTML is escaped, and
the loader serves only files inside the campaign's templates folder and the
package's own base template.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import l10n
from .address import address_lines
from .bundled import ASSETS_DIR
from .campaign import Campaign
from .errors import BadInput, TemplateError
from .fsutil import is_within
from .recipients import Recipient

BASE_PREFIX = "advocacy"  # templates extend "advocacy/base.html.j2"


class ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses files reached through a symlink out of its root."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        if not any(is_within(Path(filename), Path(root)) for root in self.searchpath):
            raise jinja2.TemplateNotFound(template, f"{template} links outside its folder")
        return source, filename, uptodate


@dataclass
class Letter:
    recipient_id: str
    language: str
    locale: str
    paper: str
    subject: str
    title: str
    html: str
    template: str
    warnings: list[str] = field(default_factory=list)


def make_environment(campaign: Campaign) -> ImmutableSandboxedEnvironment:
    loader = jinja2.ChoiceLoader(
        [
            ContainedLoader(str(campaign.templates_dir)),
            jinja2.PrefixLoader({BASE_PREFIX: ContainedLoader(str(ASSETS_DIR / "templates"))}),
        ]
    )
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _template_location(exc: BaseException, root: Path) -> str:
    """`templates/letter.html.j2:12` from the frames Jinja rewrote into template lines."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if name.endswith(".j2") or name == "<template>":
            try:
                shown = os.path.relpath(name, root) if os.path.isabs(name) else name
            except ValueError:
                shown = name
            return f"{shown}:{frame.lineno}"
    return "template"


def available_languages(campaign: Campaign) -> list[str]:
    """Languages this campaign can write: the fallback and every letter.<lang>.html.j2."""
    stem = campaign.config.campaign.letter_template.removesuffix(".html.j2")
    found = {
        path.name.removeprefix(f"{stem}.").removesuffix(".html.j2")
        for path in campaign.templates_dir.glob(f"{stem}.*.html.j2")
    }
    return sorted(found | {l10n.language_of(campaign.config.campaign.fallback_language)})


def pick_template(
    campaign: Campaign, recipient: Recipient, forced: str | None = None
) -> tuple[str, str]:
    """The template and letter language: a hand-written `letter.<lang>.html.j2` wins."""
    base = campaign.config.campaign.letter_template
    stem = base.removesuffix(".html.j2")
    fallback = l10n.language_of(campaign.config.campaign.fallback_language)
    wanted = [forced] if forced else [l10n.language_of(t) for t in recipient.languages[:1]]
    for lang in wanted:
        name = f"{stem}.{lang}.html.j2"
        if (campaign.templates_dir / name).is_file():
            return name, lang
    if forced and forced != fallback:
        raise BadInput(
            f"--lang {forced}: this campaign has no letter in that language (it has "
            f"{', '.join(available_languages(campaign))}); add templates/{stem}.{forced}.html.j2"
        )
    return base, fallback


def _salutation(recipient: Recipient, language: str, default: str) -> str:
    return recipient.salutation.get(language) or default


class Composer:
    """Renders letters for one campaign; reuse it across recipients."""

    def __init__(
        self, campaign: Campaign, *, today: dt.date | None = None, language: str | None = None
    ) -> None:
        self.campaign = campaign
        self.language = l10n.language_of(language) if language else None
        self.env = make_environment(campaign)
        self.date = campaign.config.campaign.date or today or dt.date.today()
        self._base_context = self._campaign_context()

    def _campaign_context(self) -> dict[str, Any]:
        cfg = self.campaign.config
        return {
            "campaign": cfg.campaign.model_dump(),
            "resolution": cfg.resolution.model_dump() if cfg.resolution else {},
            "demands": [d.model_dump() for d in cfg.demands],
            "sender": cfg.sender.model_dump(),
            "signature": cfg.signature.model_dump() if cfg.signature else None,
            "cosignatories": [p.model_dump() for p in self.campaign.cosignatories],
            "facts": cfg.facts,
        }

    def _fail(self, exc: BaseException, recipient: Recipient, what: str = "") -> TemplateError:
        root = self.campaign.root
        if isinstance(exc, jinja2.TemplateSyntaxError):
            name = exc.filename or exc.name or "template"
            shown = os.path.relpath(name, root) if os.path.isabs(name) else name
            return TemplateError(
                f"{shown}:{exc.lineno}: template syntax error: {exc.message}; fix the template"
            )
        where = what or _template_location(exc, root)
        if isinstance(exc, jinja2.UndefinedError):
            return TemplateError(
                f"{where}: {exc.message} (recipient {recipient.id!r}); "
                "add the field to the recipient or campaign, or fix the name in the template"
            )
        if isinstance(exc, SecurityError):
            return TemplateError(
                f"{where}: refused by the template sandbox: {exc} (recipient {recipient.id!r})"
            )
        if isinstance(exc, jinja2.TemplateNotFound):
            return TemplateError(
                f"{where}: template {exc.name!r} not found inside the campaign's templates "
                "folder; templates may only include files from that folder"
            )
        return TemplateError(f"{where}: {type(exc).__name__}: {exc} (recipient {recipient.id!r})")

    def compose(self, recipient: Recipient) -> Letter:
        template_name, language = pick_template(self.campaign, recipient, self.language)
        locale = l10n.letter_locale(language, recipient.address_country)
        sender = self.campaign.config.sender
        warnings: list[str] = []
        withheld = recipient.address_withheld
        lines: list[str] = []
        if withheld:
            warnings.append(
                f"{recipient.id}: {withheld}; the letter is rendered without an address block "
                "(add a checked address to the recipient list)"
            )
        else:
            lines = address_lines(recipient, sender_country=sender.country)
        organisation = recipient.text(recipient.organisation, [language])
        resolution = self.campaign.config.resolution

        def date_filter(value: dt.date | str, fmt: str = "long") -> str:
            if isinstance(value, str):
                value = dt.date.fromisoformat(value)
            return l10n.long_date(value, locale) if fmt == "long" else str(value)

        letter_ctx = {
            "language": language,
            "locale": str(locale),
            "paper": recipient.paper_size,
            "date": l10n.long_date(self.date, locale),
            "iso_date": self.date.isoformat(),
            "resolution_date": l10n.long_date(resolution.date, locale) if resolution else "",
            "address_lines": lines,
            "address_withheld": bool(withheld),
            "organisation": organisation,
            "country_name": l10n.country_name(recipient.country, locale),
            "salutation": _salutation(recipient, language, "Dear Sir or Madam,"),
        }
        context = {
            **self._base_context,
            "recipient": recipient.model_dump(mode="json"),
            "letter": letter_ctx,
        }
        self.env.filters["date"] = date_filter
        self.env.filters["number"] = lambda value: l10n.number(value, locale)
        self.env.filters["country"] = lambda code: l10n.country_name(str(code), locale)

        try:
            subject = self.env.from_string(self.campaign.config.campaign.subject).render(context)
        except jinja2.TemplateError as exc:
            raise self._fail(exc, recipient, f"{'campaign.toml'}: campaign.subject") from None
        subject = " ".join(subject.split())
        letter_ctx["subject"] = subject
        try:
            template = self.env.get_template(template_name)
            html = template.render(context)
        except jinja2.TemplateError as exc:
            raise self._fail(exc, recipient) from None
        return Letter(
            recipient_id=recipient.id,
            language=language,
            locale=str(locale),
            paper=recipient.paper_size,
            subject=subject,
            title=f"{subject} — {organisation}",
            html=html,
            template=template_name,
            warnings=warnings,
        )
