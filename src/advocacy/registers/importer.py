"""`advocacy recipients import`: a register file becomes a recipient list.

Every entry keeps its `source` (the register's address), `source_date` (the
file's date and name), the source's `confidence`, a `register_id` for later
`recipients diff`, and `verified: false`. Nothing is written until every entry
is valid; the list is written in one atomic step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..campaign.recipients import Recipient, parse_entries
from ..campaign.selection import select
from ..errors import RegisterError, SelectorError
from ..fsutil import write_atomic
from . import commons_ca, congress, europarl, mapping, ukparliament
from .entries import Register, file_date

SOURCES = {
    congress.NAME: "the unitedstates project's legislators-current.yaml (CC0); "
    "--committees committee-membership-current.yaml adds committee tags",
    ukparliament.NAME: "the UK Parliament's Members API (Open Parliament Licence): a "
    "/api/Members/Search response; --contacts DIR adds the /api/Members/{id}/Contact ones",
    europarl.NAME: "the European Parliament's Open Data API v2 (CC BY 4.0): a "
    "/api/v2/meps/show-current response; --contacts DIR adds the /api/v2/meps/{id} ones",
    commons_ca.NAME: "the House of Commons of Canada's XML of current members",
    mapping.NAME: "any CSV, YAML or JSON file, with --map mapping.toml",
}
# libyaml's emitter where present: five times faster than PyYAML's, the same text.
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# The order fields are written in, as a person reads an entry.
FIELD_ORDER = ["id", "register_id", *(k for k in Recipient.model_fields if k != "register_id")]


@dataclass(frozen=True)
class Options:
    committees: Path | None = None  # congress-legislators: the committee membership file
    mapping: Path | None = None  # generic: the mapping file
    contacts: Path | None = None  # uk-parliament: the folder of Contact responses
    date: str | None = None  # the register's date; default: the file's


@dataclass
class Imported:
    register: Register
    entries: list[dict[str, Any]]  # the list as written, in the YAML shape
    recipients: list[Recipient]


def read_register(source: str, path: Path, options: Options) -> Register:
    """Read `path` as `source`: entries with source, date, confidence, verified: false."""
    if source not in SOURCES:
        raise RegisterError(f"unknown register source {source!r}; use one of {', '.join(SOURCES)}")
    if not path.is_file():
        raise RegisterError(f"{path}: not found; give the register file you downloaded")
    warnings: list[str] = []
    if source == congress.NAME:
        entries, warnings = congress.read(path, options.committees)
        url = congress.URL
    elif source == ukparliament.NAME:
        entries, warnings = ukparliament.read(path, options.contacts)
        url = ukparliament.URL
    elif source == europarl.NAME:
        entries, warnings = europarl.read(path, options.contacts)
        url = europarl.URL
    elif source == commons_ca.NAME:
        entries, warnings = commons_ca.read(path)
        url = commons_ca.URL
    else:
        entries, url = mapping.read(path, options.mapping)
    date = file_date(path, options.date)
    seen: dict[str, str] = {}
    for entry in entries:
        fields = entry.fields
        if url:
            fields.setdefault("source", url)
        fields.setdefault("source_date", f"{date} ({path.name})")
        fields["verified"] = False
        key = str(fields.get("register_id") or fields["id"]).lower()
        if key in seen:
            raise RegisterError(
                f"{path}: {entry.label}: has the same register id as {seen[key]}; "
                "a register names each person once"
            )
        seen[key] = entry.label
    return Register(source, path, date, entries, warnings)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The entry without empty fields, in the order of the recipient model."""
    ordered = sorted(fields, key=lambda k: FIELD_ORDER.index(k) if k in FIELD_ORDER else 99)
    return {k: fields[k] for k in ordered if fields[k] not in ("", [], {}, None)}


def import_register(
    source: str,
    path: Path,
    options: Options,
    *,
    tags: Sequence[str] = (),
    filters: Sequence[str] = (),
) -> Imported:
    """The register as a validated recipient list; `filters` are --to selectors
    (an id, a country code, tag:NAME) that keep only the entries they match."""
    register = read_register(source, path, options)
    entries = []
    for entry in register.entries:
        fields = dict(entry.fields)
        fields["tags"] = [*fields.get("tags", []), *(t for t in tags if t)]
        entries.append(_clean(fields))
    recipients = parse_entries(entries, path)
    if filters:
        try:
            kept = {r.id for r in select(recipients, filters)}
        except SelectorError as exc:
            raise SelectorError(str(exc).replace("--to ", "--filter ", 1)) from None
        entries = [e for e in entries if e["id"] in kept]
        recipients = [r for r in recipients if r.id in kept]
    return Imported(register, entries, recipients)


def header(register: Register) -> str:
    """The comment a written list starts with: where its entries came from."""
    return (
        f"# Imported with 'advocacy recipients import {register.source}' from "
        f"{register.path.name} (register of {register.date}).\n"
        "# verified: false until a person has checked an entry with the office; update\n"
        "# it with 'advocacy recipients diff LIST NEWFILE --source ... --apply'.\n"
    )


def dump(entries: list[dict[str, Any]], comment: str) -> str:
    body = yaml.dump(entries, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return comment + ("\n" if comment else "") + (body if entries else "[]\n")


def write_list(path: Path, text: str, *, force: bool = False) -> None:
    if path.exists() and not force:
        raise RegisterError(
            f"{path}: exists; compare it with 'advocacy recipients diff {path} FILE "
            "--source ...', or give --force to replace it"
        )
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise RegisterError(f"{path}: a list is written as YAML; name it .yaml")
    write_atomic(path, text.encode("utf-8"))
