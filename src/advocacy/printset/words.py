"""The words of the print set's own sheets (cover, checklist), per language.

The letters' text comes from the campaign's catalogs; these few labels belong to
the tool and live in assets/printset-words.toml, one table per language with its
review state (`source`, `machine-drafted`, `reviewed`). Languages not listed there
print in English, and the run says so; machine-drafted wording is named in the run
too, as the letters' machine-drafted translations are.
"""

from __future__ import annotations

import tomllib
from functools import cache

from ..i18n import l10n
from ..paths import ASSETS_DIR

TABLE_FILE = ASSETS_DIR / "printset-words.toml"
KEYS = (
    "checklist recipient address reference delivered_by date stamp print_set campaign "
    "batch letters pages paper duplex yes no left_out none report how_to_print double single "
    "no_address no_pdf failed"
).split()
# plan.left_out_reason's English reasons -> their key in the table
REASONS = {"no checked address": "no_address", "no PDF letter was rendered": "no_pdf"}


@cache
def table() -> dict[str, dict[str, str]]:
    """Every language's words, and its review state under "state"."""
    with TABLE_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    return {code: {k: str(v) for k, v in words.items()} for code, words in data.items()}


def review_state(language: str) -> str:
    """The review state of the words the sheets print in for `language`."""
    code, _ = words_for(language)
    return table()[code].get("state", "machine-drafted")


def reason(words: dict[str, str], why: str) -> str:
    """Why a letter was left out, as the cover says it in the sheets' language."""
    if why in REASONS:
        return words[REASONS[why]]
    if why.startswith("failed: "):  # the error itself stays as the run reported it
        return f"{words['failed']}: {why.removeprefix('failed: ')}"
    return why


def words_for(language: str) -> tuple[str, dict[str, str]]:
    """The language the sheets print in (the batch's, else English) and its words."""
    words = table()
    code = l10n.language_of(language) if language else "en"
    return (code, words[code]) if code in words else ("en", words["en"])
