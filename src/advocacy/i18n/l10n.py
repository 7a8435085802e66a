"""Locale handling: language tags, dates, numbers, country names and paper sizes.

Everything a reader sees localized comes from Babel (CLDR), never from
hand-made tables; the one table here (paper size) is CLDR's own data, which
Babel does not ship.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError, localedata
from babel.dates import format_date
from babel.numbers import format_decimal, get_group_symbol

# CLDR supplemental measurementData, paperSize: US-Letter territories; A4 elsewhere.
# https://github.com/unicode-org/cldr/blob/main/docs/ldml/part2/measurement-system-data.md
LETTER_TERRITORIES = frozenset(
    ["BZ", "CA", "CL", "CO", "CR", "GT", "MX", "NI", "PA", "PH", "PR", "SV", "US", "VE"]
)
PAPER_SIZES = ("A4", "Letter")


def paper_for_country(country: str) -> str:
    return "Letter" if country.upper() in LETTER_TERRITORIES else "A4"


@cache
def known_territories() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to CLDR, plus EU for institutions."""
    codes = {
        str(code)
        for code in Locale("en").territories
        if isinstance(code, str) and code.isalpha() and len(code) == 2
    }
    codes -= {"ZZ", "XA", "XB", "QO"}
    return frozenset(codes | {"EU"})


@lru_cache(maxsize=1024)
def parse_language_tag(tag: str) -> Locale:
    """Parse a BCP 47 tag such as `de-AT` or `be`; raise ValueError when unknown."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown language code {tag!r}") from exc


def language_of(tag: str) -> str:
    """The bare language subtag: `de-AT` -> `de`."""
    return tag.replace("_", "-").split("-")[0].lower()


@lru_cache(maxsize=512)
def letter_locale(language: str, country: str) -> Locale:
    """The locale for a letter in `language` sent to `country`.

    English to Austria is en_AT (day-month dates), English to the USA en_US;
    institutions (country EU) get the European variant where CLDR has one,
    and a pair CLDR lacks (en_GR) the world variant (en_001) before the bare one.
    """
    region = "150" if country.upper() == "EU" else country.upper()
    candidate = f"{language}_{region}"
    for name in (candidate, f"{language}_001"):
        if localedata.exists(name):
            return Locale.parse(name)
    return Locale.parse(language)


def long_date(date: dt.date, locale: Locale, pattern: str = "long") -> str:
    """CLDR's long date, or a CLDR pattern such as "d. M. y"."""
    return format_date(date, format=pattern, locale=locale)


def number_locale(language: str, tags: list[str], locale: Locale) -> Locale:
    """Where numbers follow: the letter's language, not the recipient's country.

    The recipient's own variant of the language (de-AT) if it lists one, else
    the language's default, whenever the letter's locale groups digits another
    way (en_150, used for the institutions in Brussels, writes 1.500).
    """
    own = next(
        (parse_language_tag(tag) for tag in tags if language_of(tag) == language),
        None,
    ) or Locale.parse(language)
    return own if get_group_symbol(own) != get_group_symbol(locale) else locale


def number(value: float | int, locale: Locale) -> str:
    return format_decimal(value, locale=locale)


def country_name(code: str, locale: Locale) -> str:
    name = locale.territories.get(code.upper())
    return name if name else code.upper()


def language_name(tag: str, locale: Locale | str = "en") -> str:
    loc = locale if isinstance(locale, Locale) else Locale.parse(locale)
    return str(loc.languages.get(language_of(tag), tag))
