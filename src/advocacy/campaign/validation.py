"""Pydantic's validation errors as the one-line wording users meet, and the date
forms people type.

No pydantic wording reaches a user: each error type a person can cause has its own
sentence, an unknown key is named before the required one it hides (a header
`Organisation` or a key `organization` is the cause, "organisation is missing" only
the effect), with the closest known name as a suggestion.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

ISO_HINT = "write the date as YYYY-MM-DD (2026-11-30)"
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def user_date(value: Any) -> Any:
    """A date as spreadsheets save it, where it cannot be misread: 30.11.2026 (day
    first wherever dots are used) and 30/11/2026 or 11/30/2026 when one part is over
    12. Anything else is left for the ISO form (and its error)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if match := _DOTTED.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _SLASHED.match(text):
        first, second, year = (int(part) for part in match.groups())
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            day, month = second, first
        else:
            raise ValueError(f"{text!r} can be read two ways (day/month or month/day); {ISO_HINT}")
    else:
        return text
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; {ISO_HINT}") from None


def _fields_at(model: type[BaseModel] | None, path: tuple[Any, ...]) -> list[str]:
    """The field names a model accepts at `path` (a nested table or list entry)."""
    for part in path:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return []
        model = _model_in(info.annotation)
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _text(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"is not a date; {ISO_HINT}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be {ctx.get('ge', ctx.get('gt'))} or more"
    if kind in ("less_than_equal", "less_than"):
        return f"must be {ctx.get('le', ctx.get('lt'))} or less"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind == "string_type":
        return "must be text (in quotes)"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "must be a list, e.g. [a, b]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a table of settings, e.g. {key = value}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return "has a value that is not allowed here"
    text = str(error["msg"]).removeprefix("Value error, ")
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[:2].isupper() else text


def first_problem(
    exc: ValidationError,
    *,
    unknown: str,
    more_in: str = "",
    model: type[BaseModel] | None = None,
) -> tuple[str, str]:
    """(field path, what is wrong) of the most telling error: an unknown field comes
    before the missing one it hides. `unknown` explains an unexpected field, `more_in`
    ("this entry") counts the remaining errors, `model` gives the names to suggest."""
    errors = exc.errors()
    extras = [e for e in errors if e["type"] == "extra_forbidden"]
    first = extras[0] if extras else errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "?"
    if first["type"] == "extra_forbidden":
        text = unknown
        name = str(first["loc"][-1]) if first["loc"] else ""
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"]]
        known = missing + _fields_at(model, tuple(first["loc"][:-1]))
        close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1, cutoff=0.6)
        if close:
            text = f"{text.rstrip('.')}; did you mean '{close[0]}'?"
    else:
        text = _text(first)
    more = len(errors) - 1
    if more_in and more:
        text += f" (and {more} more problem{'s' if more > 1 else ''} in {more_in})"
    return field, text
