"""Pydantic's validation errors as the one-line wording users meet."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(exc: ValidationError, *, unknown: str, more_in: str = "") -> tuple[str, str]:
    """(field path, what is wrong) of the first error; `unknown` explains an
    unexpected field, `more_in` ("this entry") counts the remaining errors."""
    errors = exc.errors()
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "?"
    if first["type"] == "missing":
        text = "is required but missing"
    elif first["type"] == "extra_forbidden":
        text = unknown
    else:
        text = str(first["msg"]).removeprefix("Value error, ")
    more = len(errors) - 1
    if more_in and more:
        text += f" (and {more} more problem{'s' if more > 1 else ''} in {more_in})"
    return field, text
