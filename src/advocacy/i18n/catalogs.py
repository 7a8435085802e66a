"""Gettext catalogs of a campaign: loading, checking, completeness, review state.

Catalogs live in `locales/<lang>/LC_MESSAGES/messages.po` and are read
directly from the .po file (no stale .mo can disagree with what a translator
sees). A sidecar `locales/<lang>/review.toml` records who wrote the
translation: `state = "machine-drafted"` until a native speaker has reviewed it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from ..errors import CatalogError
from ..fsutil import links_out
from . import l10n, msgtext

DOMAIN = "messages"
REVIEW_FILE = "review.toml"
REVIEW_STATES = ("machine-drafted", "draft", "reviewed")

_PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\{.*?\}\}|\{\w+\}")
_TAG = msgtext.TAG
_VOID = {"br", "img", "wbr", "hr"}


def po_path(root: Path, language: str) -> Path:
    return root / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _contained(root: Path, *paths: Path) -> None:
    """Refuse a catalog file (or its folder) that a link takes out of the campaign: a
    `locales/de` linked to another folder would print that folder's text in letters."""
    for path in paths:
        if links_out(path, root):
            raise CatalogError(
                f"{path.relative_to(root).as_posix()}: is a link to a file or folder outside "
                "the campaign folder; copy the translation into the campaign folder instead"
            )


@dataclass
class CatalogInfo:
    language: str
    path: Path
    messages: dict[str, str]  # msgid -> msgstr, translated and not fuzzy
    fuzzy: set[str]
    all_ids: set[str]
    review: str = "machine-drafted"
    review_note: str = ""
    missing: set[str] = field(default_factory=set)  # required ids without a translation

    @property
    def complete(self) -> bool:
        return not self.missing

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    def markup_gettext(self, message: str) -> str:
        """For an HTML template: the translation escaped, only the msgid's tags kept."""
        text = self.messages.get(message)
        return msgtext.markup(message, text) if text else message

    def markup_ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.markup_gettext(singular if n == 1 else plural)


def _read(path: Path, shown: str) -> Catalog:
    data = path.read_bytes()
    problem = msgtext.header_problem(data)
    if problem:
        raise CatalogError(f"{shown}: {problem}")
    try:
        return read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError, LookupError) as exc:
        raise CatalogError(f"{shown}: malformed catalog: {exc}; fix the .po file") from None


def _review(folder: Path, shown: str) -> tuple[str, str]:
    path = folder / REVIEW_FILE
    if not path.is_file():
        return "machine-drafted", "no review.toml: treated as machine-drafted"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{shown}/{REVIEW_FILE}: malformed TOML: {exc}") from None
    state = str(data.get("state", "machine-drafted"))
    if state not in REVIEW_STATES:
        raise CatalogError(
            f"{shown}/{REVIEW_FILE}: state {_short(state)!r} is not one of "
            f"{', '.join(REVIEW_STATES)}"
        )
    return state, str(data.get("note", ""))


def _files(root: Path, language: str) -> tuple[Path, Path]:
    """The language's .po and review.toml, refused when a link takes them (or their
    folders) out of the campaign."""
    path = po_path(root, language)
    review = path.parent.parent / REVIEW_FILE
    _contained(root, root / "locales", path.parent.parent, path.parent, path, review)
    return path, review


def load(root: Path, language: str) -> CatalogInfo:
    """A checked catalog; parsed again only when its files change (preview reloads often)."""
    return _checked(root, language, *_files(root, language))


def _checked(root: Path, language: str, path: Path, review: Path) -> CatalogInfo:
    """The catalog of files already known to be inside the campaign (`_files`)."""
    stamps = tuple(
        (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in (path, review)
    )
    info = _load_cached(root, language, stamps)
    return dataclasses.replace(info, missing=set())


@lru_cache(maxsize=256)
def _load_cached(root: Path, language: str, stamps: tuple[object, ...]) -> CatalogInfo:
    path = po_path(root, language)
    shown = path.relative_to(root).as_posix()
    catalog = _read(path, shown)
    messages: dict[str, str] = {}
    fuzzy: set[str] = set()
    ids: set[str] = set()
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        ids.add(message.id)
        text = message.string if isinstance(message.string, str) else ""
        if message.fuzzy:
            fuzzy.add(message.id)
        elif text:
            check_message(message.id, text, language, shown)
            messages[message.id] = text
    review, note = _review(path.parent.parent, f"locales/{language}")
    return CatalogInfo(language, path, messages, fuzzy, ids, review, note)


def languages(root: Path) -> list[str]:
    folder = root / "locales"
    _contained(root, folder)
    if not folder.is_dir():
        return []
    found = sorted(p.name for p in folder.iterdir() if po_path(root, p.name).is_file())
    for language in found:
        _contained(root, folder / language)
    return found


def load_all(
    root: Path, required: Iterable[str], *, broken: dict[str, str] | None = None
) -> dict[str, CatalogInfo]:
    """The campaign's catalogs, checked. A catalog that fails its checks raises, or,
    with `broken` given, is left out and its one-line problem recorded there (language
    -> line): the letters of that language then fail alone (a volunteer's catalog must
    not stop the letters of every other language)."""
    needed = set(required)
    result = {}
    for language in languages(root):
        try:
            l10n.parse_language_tag(language)
        except ValueError:
            raise CatalogError(
                f"locales/{language}: is not a known language code; name the folder "
                "with a BCP 47 code such as de or pt"
            ) from None
        files = _files(root, language)  # a link out of the campaign stops the run
        try:
            info = _checked(root, language, *files)
        except CatalogError as exc:
            if broken is None:
                raise
            broken[l10n.language_of(language)] = str(exc)
            continue
        info.missing = {m for m in needed if m not in info.messages}
        result[language] = info
    return result


# -- checks --------------------------------------------------------------------


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"</{tag}> does not close an open tag"
        else:
            self.stack.pop()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def check_message(msgid: str, msgstr: str, language: str, shown: str) -> None:
    """Refuse a translation that drops or renames a placeholder or breaks markup."""
    where = f"{shown}: message {_short(msgid)!r}"
    if len(msgstr) > msgtext.MAX_MESSAGE:
        raise CatalogError(
            f"{where}: the {language} translation has {len(msgstr):,} characters, more than "
            f"the {msgtext.MAX_MESSAGE:,} a message may have"
        )
    want, got = Counter(_PLACEHOLDER.findall(msgid)), Counter(_PLACEHOLDER.findall(msgstr))
    if want != got:
        lost = sorted((want - got).elements())
        extra = sorted((got - want).elements())
        detail = "; ".join(
            part
            for part in (
                f"drops {', '.join(lost)}" if lost else "",
                f"adds {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise CatalogError(
            f"{where}: the {language} translation {detail}; keep every placeholder of the "
            "source string exactly as it is"
        )
    if Counter(_TAG.findall(msgid)) != Counter(_TAG.findall(msgstr)):
        raise CatalogError(
            f"{where}: the {language} translation changes the markup; keep the tags "
            f"{' '.join(_TAG.findall(msgid)) or '(none)'} as they are"
        )
    parser = _Balance()
    parser.feed(msgstr)
    parser.close()
    if parser.error or parser.stack:
        problem = parser.error or f"<{parser.stack[-1]}> is never closed"
        raise CatalogError(f"{where}: the {language} translation breaks the markup: {problem}")
    percent = msgtext.percent_problem(msgid, msgstr)
    if percent:
        raise CatalogError(f"{where}: the {language} translation: {percent}")


Gettext = Callable[[str], str]
NGettext = Callable[[str, str, int], str]


def _identity(message: str) -> str:
    return message


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def gettext_callables(info: CatalogInfo | None, *, html: bool = False) -> tuple[Gettext, NGettext]:
    """gettext and ngettext for one language; the source language passes through.
    `html`: for an HTML template, the translations escaped with only their msgid's tags."""
    if info is None:
        return _identity, _plural
    if html:
        return info.markup_gettext, info.markup_ngettext
    return info.gettext, info.ngettext
