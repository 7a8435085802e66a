"""Filters every letter template has besides Jinja's own: CSS strings and counters
for the page furniture, and URLs that break only after a slash."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup


def css_string(value: Any) -> Markup:
    """A CSS string literal, safe inside <style> (no quote or `</style` can escape)."""
    text = re.sub(r"\s+", " ", str(value))
    escaped = "".join(f"\\{ord(ch):x} " if ch in '"\\<>&' or ord(ch) < 32 else ch for ch in text)
    return Markup(f'"{escaped}"')


def css_counters(value: Any) -> Markup:
    """`Page {page} of {pages}` -> `"Page " counter(page) " of " counter(pages)`."""
    parts = re.split(r"(\{page\}|\{pages\})", str(value))
    out = []
    for part in parts:
        if part == "{page}":
            out.append("counter(page)")
        elif part == "{pages}":
            out.append("counter(pages)")
        elif part:
            out.append(str(css_string(part)))
    return Markup(" ".join(out) or '""')


def url_markup(value: Any) -> Markup:
    """A URL that breaks only after a `/`: each segment is kept whole (never at its own
    hyphen, never with an added one), with a break opportunity after each slash."""
    text = str(value)
    scheme, sep, rest = text.partition("://")
    head, parts = (scheme + sep, rest.split("/")) if sep else ("", text.split("/"))
    segments = [head + parts[0], *parts[1:]]
    spans = [Markup('<span class="url-part">{}</span>').format(part) for part in segments]
    return Markup('<span class="url">') + Markup("/<wbr>").join(spans) + Markup("</span>")
