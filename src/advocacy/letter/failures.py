"""A template's failure as one line: the template and line Jinja ran (the package's
own base template named as templates extend it, `advocacy/base.html.j2`), the
recipient, and what to do. A bound of the letter (`limits`) is a LimitExceeded."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from ..campaign import syntax
from ..errors import LimitExceeded, TemplateError
from ..paths import ASSETS_DIR
from . import limits

BASE_PREFIX = "advocacy"  # templates extend "advocacy/base.html.j2"


def template_location(exc: BaseException, root: Path) -> str:
    """`templates/letter.html.j2:12` from the frames Jinja rewrote into template lines."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if name.endswith(".j2") or name == "<template>":
            try:
                shown = os.path.relpath(name, root) if os.path.isabs(name) else name
                if Path(name).is_relative_to(ASSETS_DIR / "templates"):  # the package's own
                    shown = f"{BASE_PREFIX}/{os.path.relpath(name, ASSETS_DIR / 'templates')}"
            except ValueError:
                shown = name
            return f"{shown}:{frame.lineno}"
    return "template"


def failure(
    exc: BaseException, root: Path, recipient_id: str, filters: Any, what: str = ""
) -> TemplateError:
    """The one line for `exc`, raised while rendering the letter to `recipient_id`."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        name = exc.filename or exc.name or "template"
        shown = os.path.relpath(name, root) if os.path.isabs(name) else name
        return TemplateError(syntax.describe(exc, shown, filters))
    where = what or template_location(exc, root)
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(
            f"{where}: {(exc.message or '').rstrip('.')} (recipient {recipient_id!r}); "
            "add the field to the recipient or campaign, or fix the name in the template"
        )
    if isinstance(exc, MemoryError):
        exc = limits.LimitReached(limits.memory_message("the letter"))
    if isinstance(exc, limits.LimitReached):
        return LimitExceeded(f"{where}: {exc} (recipient {recipient_id!r})")
    if isinstance(exc, SecurityError):
        return TemplateError(
            f"{where}: refused by the template sandbox: {exc} (recipient {recipient_id!r})"
        )
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(
            f"{where}: template {exc.name!r} not found inside the campaign's templates "
            "folder; templates may only include files from that folder"
        )
    return TemplateError(f"{where}: {type(exc).__name__}: {exc} (recipient {recipient_id!r})")
