"""Translations that an edit left behind.

A catalog that lacks some of the campaign's sentences (a template or campaign.toml
string was added or changed since it was translated) must not quietly turn that
language's letters into the fallback language. `find_gap` says which sentences
and languages; by default those letters are not made (`missing_translation =
"stop"`), and `--allow-fallback` or `missing_translation = "fallback"` writes them
in the fallback language instead. A language with no catalog at all is not a gap:
its letters are in the fallback language, as they always were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..campaign.recipients import Recipient
from ..i18n import l10n
from .compose import Composer

FIRST_WORDS = 12


@dataclass
class TranslationGap:
    missing: dict[str, set[str]] = field(default_factory=dict)  # msgid -> languages
    letters: dict[str, str] = field(default_factory=dict)  # recipient id -> its language
    where: dict[str, str] = field(default_factory=dict)  # msgid -> file:line of the source

    def __bool__(self) -> bool:
        return bool(self.letters)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.letters.values()))


def find_gap(composer: Composer, recipients: Iterable[Recipient]) -> TranslationGap:
    """The letters whose language has a catalog that lacks some of their sentences."""
    gap = TranslationGap()
    for recipient in recipients:
        language = composer.intended(recipient)
        info = composer.catalogs.get(language) if language else None
        if language is None or language in composer.handwritten:
            continue
        if info is None or info.complete:
            continue
        gap.letters[recipient.id] = language
        for msgid in info.missing:
            gap.missing.setdefault(msgid, set()).add(language)
    if gap:
        from ..campaign.translations import extract_catalog

        for message in extract_catalog(composer.campaign):
            if isinstance(message.id, str) and message.id in gap.missing and message.locations:
                path, line = message.locations[0]
                gap.where[message.id] = f"{path}:{line}" if line else path
    return gap


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The sentence as a writer knows it: placeholders as {name}, markup left out."""
    text = re.sub(r"%\((\w+)\)s", r"{\1}", re.sub(r"<[^>]+>", "", text))
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _languages(codes: Iterable[str], shown: int = 8) -> str:
    found = sorted(codes)
    return ", ".join(found[:shown]) + (
        f" and {len(found) - shown} more" if len(found) > shown else ""
    )


def block(gap: TranslationGap, campaign_dir: str, fallback: str) -> str:
    """The report a person can act on: sentences, languages, the commands."""
    languages = gap.languages
    lines = [
        f"{len(gap.letters)} letter(s) not made: {len(gap.missing)} sentence(s) of the "
        f"campaign are new or changed and not yet translated into {len(languages)} "
        f"language(s) ({_languages(languages)}):"
    ]
    for msgid, lacking in sorted(gap.missing.items(), key=lambda item: item[0]):
        where = f" ({gap.where[msgid]})" if msgid in gap.where else ""
        lines.append(f'  "{first_words(msgid)}"{where} lacks {_languages(lacking)}')
    lines.append(
        f"  fix: run 'advocacy translations update {campaign_dir}', then translate the new "
        f"strings in locales/<lang>/LC_MESSAGES/messages.po (a changed sentence keeps its "
        "old translation there, marked fuzzy: check it and remove the fuzzy flag)"
    )
    lines.append(
        f"  or write these letters in {l10n.language_name(fallback)} for now: "
        '--allow-fallback, or missing_translation = "fallback" in campaign.toml\'s '
        "[campaign] table"
    )
    return "\n".join(lines)


def fell_back_line(gap: TranslationGap, fallback: str) -> str:
    """One line when the gap's letters were written in the fallback language."""
    return (
        f"{len(gap.letters)} letter(s) written in {l10n.language_name(fallback)} because "
        f"their translations lack {len(gap.missing)} new or changed sentence(s) "
        f"({_languages(gap.languages)}); run 'advocacy translations status' to see them"
    )
