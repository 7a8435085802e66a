"""The `generic` source: any CSV, YAML or JSON register with a mapping file.

    # mapping.toml
    format = "json"              # optional: from the file's suffix
    records = "items"            # JSON/YAML: the dotted key holding the list
    source = "https://..."       # the register's address, each entry's `source`
    confidence = "medium"        # how far its facts are to be trusted

    [columns]                    # recipient field = the register's column
    register_id = "bioguide"     # a dotted column reaches into nested records
    name = "official_full"
    "address.street_address" = "office"

    [templates]                  # recipient field = a template over the record
    id = "us-{{ last_name | lower }}-{{ bioguide | lower }}"
    "salutation.en" = "Dear Senator {{ last_name }}:"

Templates run in the letter sandbox (letter/sandbox.py): no attribute walks, an
unknown name is an error, bounded `*` and `**`. Each record's columns are names
in it; `row` is the whole record (`row["first name"]`); the filter `slug` makes
an id of a name ("Velázquez" -> "velazquez").
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from ..campaign.recipients import ADDRESS_FIELDS, CONFIDENCE, Recipient
from ..errors import RegisterError
from ..letter.sandbox import sandbox
from .entries import RegisterEntry, slug
from .readers import format_of, lookup, records

NAME = "generic"
_SETTINGS = {"format", "records", "source", "confidence", "columns", "templates"}
_LOCALIZED = {"organisation", "addressee", "salutation", "close"}
_LISTS = {"tags", "languages", "address_omits"}  # one cell: items apart by commas or spaces
_FIXED = {"verified": "an imported entry is never verified; set it after checking"}


@dataclass
class Mapping:
    path: Path
    format: str = ""
    records: str = ""
    source: str = ""
    confidence: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    templates: dict[str, jinja2.Template] = field(default_factory=dict)


def _flat(table: MappingType[str, Any], prefix: str = "") -> dict[str, Any]:
    """`address.city = "x"` (a nested table in TOML) and `"address.city" = "x"` alike."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _check_field(name: str, shown: Path, table: str) -> None:
    head, _, tail = name.partition(".")
    where = f"{shown}: [{table}] {name!r}"
    if head in _FIXED:
        raise RegisterError(f"{where}: {_FIXED[head]}")
    if head not in Recipient.model_fields:
        close = difflib.get_close_matches(head, list(Recipient.model_fields), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see README, 'A recipient'"
        raise RegisterError(f"{where}: is not a recipient field; {hint}")
    if head == "address" and tail not in ADDRESS_FIELDS:
        raise RegisterError(f"{where}: is not an address field; use {', '.join(ADDRESS_FIELDS)}")
    if tail and head not in _LOCALIZED | {"address", "addressee_person"}:
        raise RegisterError(f"{where}: '{head}' has no parts; map it as '{head}'")


def load_mapping(path: Path) -> Mapping:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RegisterError(f"{path}: not found; give the mapping with --map FILE") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegisterError(f"{path}: malformed TOML: {exc}; fix the mapping") from None
    unknown = sorted(set(data) - _SETTINGS)
    if unknown:
        raise RegisterError(
            f"{path}: {unknown[0]!r} is not a mapping setting; use {', '.join(sorted(_SETTINGS))}"
        )
    mapping = Mapping(path)
    for key in ("format", "records", "source", "confidence"):
        if not isinstance(data.get(key, ""), str):
            raise RegisterError(f"{path}: '{key}' must be text (in quotes)")
        setattr(mapping, key, data.get(key, ""))
    if mapping.confidence.lower() not in CONFIDENCE:
        raise RegisterError(
            f"{path}: confidence {mapping.confidence!r} is not one of {', '.join(CONFIDENCE[1:])}"
        )
    env = sandbox(jinja2.DictLoader({}), html=False)
    env.filters["slug"] = slug
    for table in ("columns", "templates"):
        if not isinstance(data.get(table, {}), dict):
            raise RegisterError(f"{path}: [{table}] must be a table of field = text")
        for name, value in _flat(data.get(table, {})).items():
            _check_field(name, path, table)
            if not isinstance(value, str):
                raise RegisterError(f"{path}: [{table}] {name!r} must be text (in quotes)")
            if table == "columns":
                mapping.columns[name] = value
                continue
            try:
                mapping.templates[name] = env.from_string(value)
            except jinja2.TemplateSyntaxError as exc:
                raise RegisterError(f"{path}: [templates] {name!r}: {exc.message}") from None
    if not mapping.columns and not mapping.templates:
        raise RegisterError(f"{path}: maps no field; add a [columns] table")
    return mapping


def _check_columns(mapping: Mapping, rows: list[Any], shown: Path) -> None:
    """A column no record has is a typo in the mapping, not an empty cell."""
    known: set[str] = set()
    for row in rows[:1000]:
        if isinstance(row, dict):
            known.update(row)
    for name, column in mapping.columns.items():
        if any(_has(row, column) for row in rows):
            continue
        close = difflib.get_close_matches(column, sorted(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"columns: {', '.join(sorted(known))}"
        raise RegisterError(
            f"{mapping.path}: [columns] {name} = {column!r}: no record of {shown} has a "
            f"column {column!r}; {hint}"
        )


def _has(row: Any, column: str) -> bool:
    try:
        lookup(row, column)
    except KeyError:
        return False
    return True


def _put(fields: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        return
    text = value if isinstance(value, list) else str(value).strip()
    if text in ("", []):
        return
    head, _, tail = name.partition(".")
    if head in _LISTS and isinstance(text, str):
        text = [part for part in re.split(r"[\s,;]+", text) if part]
    if tail:
        fields.setdefault(head, {})[tail] = text
    else:
        fields[head] = text


def _entry(mapping: Mapping, row: Any, index: int, shown: Path) -> RegisterEntry:
    label = f"entry {index + 1}"
    if not isinstance(row, dict):
        raise RegisterError(f"{shown}: {label}: is not a record of named fields")
    fields: dict[str, Any] = {}
    for name, column in mapping.columns.items():
        try:
            _put(fields, name, lookup(row, column))
        except KeyError:
            continue  # this record leaves the column out: the field stays empty
    if fields.get("register_id"):
        label = f"entry {index + 1} (register id {fields['register_id']})"
    context = {key: value for key, value in row.items() if isinstance(key, str)}
    for name, template in mapping.templates.items():
        try:
            _put(fields, name, template.render({**context, "row": row}))
        except (jinja2.TemplateError, SecurityError) as exc:
            raise RegisterError(
                f"{shown}: {label}: field '{name}' (its template in {mapping.path}): "
                f"{getattr(exc, 'message', None) or exc}"
            ) from None
    if "id" not in fields:
        if not fields.get("register_id"):
            raise RegisterError(
                f"{shown}: {label}: has no 'id'; map a column to id or to register_id "
                f"in {mapping.path}"
            )
        fields["id"] = slug(str(fields["register_id"]))
    if mapping.confidence:
        fields.setdefault("confidence", mapping.confidence.lower())
    return RegisterEntry(label, fields)


def read(path: Path, mapping_path: Path | None) -> tuple[list[RegisterEntry], str]:
    """The records of `path` as entries, and the register's address the mapping gives."""
    if mapping_path is None:
        raise RegisterError("the generic source needs a mapping: give --map mapping.toml")
    mapping = load_mapping(mapping_path)
    rows = records(path, format_of(path, mapping.format), mapping.records)
    if rows:
        _check_columns(mapping, rows, path)
    return [_entry(mapping, row, index, path) for index, row in enumerate(rows)], mapping.source
