"""A template's syntax error as one line a writer can act on.

Jinja's own words assume one knows Jinja: inside `{% trans %}` a variable must be a
plain name (`{{ sender.organisation }}` gives "expected token 'end of print
statement', got '.'"), and an unknown filter does not say which filters exist.
Used wherever a template is compiled: the letter, the catalogs' extraction, the
relay cover note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import jinja2

TRANS_FORM = (
    "inside {% trans %} a variable must be a plain name: name it in the tag, e.g. "
    "{% trans org=sender.organisation %}... {{ org }} ...{% endtrans %}"
)


# Filters every letter has (installed per language); Jinja's own come on top.
LETTER_FILTERS = ("date", "number", "country")


def _inside_trans(source: str | None, filename: str | None, lineno: int) -> bool:
    if not source and filename:
        try:
            with open(filename, encoding="utf-8") as handle:
                source = handle.read()
        except OSError:
            return False
    if not source:
        return False
    lines = source.splitlines()
    if lineno <= len(lines) and re.search(r"\{%-?\s*trans\b", lines[lineno - 1]):
        return True
    before = "\n".join(lines[: lineno - 1])
    opened = max(before.rfind("{% trans"), before.rfind("{%- trans"))
    return opened >= 0 and before.rfind("endtrans") < opened


def describe(exc: jinja2.TemplateSyntaxError, shown: str, filters: Iterable[str] = ()) -> str:
    """'<file>:<line>: <what is wrong>; <what to write>' — never ending in '.;'."""
    message = (exc.message or "syntax error").rstrip(".")
    advice = "fix the template"
    unknown_filter = re.match(r"No filter named '([^']+)'", message)
    if unknown_filter:
        from jinja2.filters import FILTERS

        ours = sorted({*LETTER_FILTERS, *filters} - set(FILTERS))
        message = f"no filter named {unknown_filter.group(1)!r}"
        advice = (
            f"the filters are {', '.join(ours)} and Jinja's built-in ones "
            "(upper, lower, replace, join, default, ...)"
        )
    elif _inside_trans(exc.source, exc.filename, exc.lineno) and (
        "end of print statement" in message or "expected token" in message
    ):
        advice = TRANS_FORM
    return f"{shown}:{exc.lineno}: template syntax error: {message}; {advice}"
