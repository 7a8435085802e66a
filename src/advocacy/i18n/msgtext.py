"""A translation is text, never code. A catalog comes from outside (a volunteer
translator), so its msgstr is treated as literal text with the msgid's named
placeholders: escaped before it meets a template, with only the msgid's own tags let
back in (checked balanced at load), never compiled as a template, and `%` only as
`%%` or the msgid's own `%(name)s` (a `%9999999d` width would allocate gigabytes).

The .po file itself is bounded before Babel reads it: its size, its charset (an
unknown one is a line, not a LookupError) and its Plural-Forms `nplurals` (a huge
count made Babel allocate a list per message)."""

from __future__ import annotations

import codecs
import re
import weakref
from typing import Any

import jinja2
from markupsafe import escape

MAX_CATALOG_BYTES = 5_000_000  # a whole campaign's catalog is some 50 kB
MAX_NPLURALS = 6  # the most any language has (Arabic)
MAX_MESSAGE = 10_000  # characters of one msgstr, as for a recipient's field

TAG = re.compile(r"</?[A-Za-z][^<>]*>")
JINJA_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_PERCENT = re.compile(r"%(%|\(\w+\)s)?")
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*[*\d.]")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{0,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_CHARSET = re.compile(rb"charset\s*=\s*([^\s\\\"';]+)", re.IGNORECASE)
_NPLURALS = re.compile(rb"nplurals\s*=\s*([0-9]+)", re.IGNORECASE)


def header_problem(data: bytes) -> str | None:
    """Why a .po file cannot be read safely (its size or header), or None."""
    if len(data) > MAX_CATALOG_BYTES:
        return (
            f"is {len(data):,} bytes, more than the {MAX_CATALOG_BYTES:,} a catalog may have; "
            "split it or remove what is not translation"
        )
    head = data[:4096]  # the header entry comes first
    charset = _CHARSET.search(head)
    if charset:
        name = charset.group(1).decode("ascii", "replace")
        try:
            codecs.lookup(name)
        except LookupError:
            return f"header Content-Type: unknown charset {name!r}; write charset=UTF-8"
    for count in _NPLURALS.findall(head):
        if int(count) > MAX_NPLURALS or int(count) < 1:
            return (
                f"header Plural-Forms: nplurals={int(count)} is not between 1 and "
                f"{MAX_NPLURALS} (no language has more plural forms)"
            )
    return None


def percent_problem(msgid: str, msgstr: str) -> str | None:
    """A `%` in the translation of a %-formatted source other than `%%` and its own
    `%(name)s`, or anywhere a conversion with a width or precision (`%9999999d`
    allocates gigabytes when a template %-formats it). Any other stray `%` is text:
    `markup` doubles it, so a template prints it as it is."""
    allowed = set(re.findall(r"%\(\w+\)s", msgid))
    for match in _PERCENT.finditer(msgstr):
        token = match.group(0)
        if token == "%%" or token in allowed:
            continue
        # A %-formatted source (it has %(name)s): no other conversion. Else a width.
        if allowed or _CONVERSION.match(msgstr, match.start()):
            shown = msgstr[match.start() : match.start() + 12]
            return (
                f"the format {shown!r} is not a placeholder of the source string; "
                "write a literal % as %%"
            )
    return None


def _percents(text: str, msgid: str) -> str:
    """Every `%` of the translation that is not `%%` or one of the msgid's `%(name)s`
    doubled: a template %-formats each translation, and text must stay text."""
    allowed = set(re.findall(r"%\(\w+\)s", msgid))

    def keep(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token == "%%" or token in allowed else "%" + token

    return _PERCENT.sub(keep, text)


def markup(msgid: str, msgstr: str) -> str:
    """The translation as HTML: its text escaped, only the msgid's tags kept as tags
    (each as often as the msgid has it) and character references kept as they are."""
    allowed: dict[str, int] = {}
    for tag in TAG.findall(msgid):
        allowed[tag] = allowed.get(tag, 0) + 1
    out: list[str] = []
    position = 0
    for match in TAG.finditer(msgstr):
        out.append(_text(msgstr[position : match.start()]))
        tag = match.group(0)
        if allowed.get(tag, 0) > 0:
            allowed[tag] -= 1
            out.append(tag)
        else:
            out.append(str(escape(tag)))
        position = match.end()
    out.append(_text(msgstr[position:]))
    return _percents("".join(out), msgid)


def _text(text: str) -> str:
    """Escaped text; `&amp;`, `&#160;` and the like stay character references."""
    pieces: list[str] = []
    position = 0
    for match in _ENTITY.finditer(text):
        pieces.append(str(escape(text[position : match.start()])))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(str(escape(text[position:])))
    return "".join(pieces)


def fill(msgstr: str, values: dict[str, str]) -> str:
    """The translation with each `{{ … }}` placeholder replaced by its value (made from
    the msgid, never from the msgstr); the rest of it escaped, as literal text."""
    out: list[str] = []
    position = 0
    for match in JINJA_PLACEHOLDER.finditer(msgstr):
        out.append(str(escape(msgstr[position : match.start()])))
        token = match.group(0)
        out.append(values[token] if token in values else str(escape(token)))
        position = match.end()
    out.append(str(escape(msgstr[position:])))
    return "".join(out)


def render(env: jinja2.Environment, source: str, translated: str, context: dict[str, Any]) -> str:
    """A text of campaign.toml (subject, demand) as HTML. The source is a template of
    the campaign's own; its translation is never compiled: the translation's `{{ … }}`
    placeholders get the values the source's own make, the rest of it is literal text."""
    if translated == source:
        if "{{" not in source and "{%" not in source:
            return str(escape(source))
        return _compiled(env, source).render(context)
    values = {
        token: _compiled(env, token).render(context)
        for token in set(JINJA_PLACEHOLDER.findall(source))
    }
    return fill(translated, values)


# Compiled once per environment: the subject, the demands and their placeholders
# are the same for every letter, and compiling them was a millisecond of each.
_COMPILED: weakref.WeakKeyDictionary[jinja2.Environment, dict[str, jinja2.Template]] = (
    weakref.WeakKeyDictionary()
)
_MAX_COMPILED = 1024  # per environment: a campaign has some dozens of texts


def _compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    known = _COMPILED.setdefault(env, {})
    template = known.get(source)
    if template is None:
        template = env.from_string(source)
        if len(known) < _MAX_COMPILED:
            known[source] = template
    return template
