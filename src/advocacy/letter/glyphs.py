"""Can the letter's font print a text? Checked before rendering, so a letter
never goes out with empty boxes where a name should be."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ..paths import ASSETS_DIR

FONT = ASSETS_DIR / "fonts" / "DejaVuSerif.ttf"


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # a WeasyPrint dependency; loaded only here

    with TTFont(FONT, lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing(text: str) -> list[str]:
    """Characters of `text` (NFC) that the bundled font has no glyph for."""
    covered = _covered()
    absent: dict[str, None] = {}
    for ch in unicodedata.normalize("NFC", text):
        if ch.isspace() or unicodedata.category(ch) == "Cf":
            continue  # spaces and invisible format characters need no glyph
        if ord(ch) not in covered:
            absent[ch] = None
    return list(absent)


def describe(chars: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")
