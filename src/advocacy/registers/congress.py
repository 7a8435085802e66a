"""The built-in `congress-legislators` source: the CC0 legislators-current.yaml of
the unitedstates project (github.com/unitedstates/congress-legislators), with
committee membership from its committee-membership-current.yaml; or the .json
files the project publishes beside them (the same data, read ten times faster).

Each member's latest term gives the chamber, the state and the DC office; tags
are `us-congress`, the chamber (`senate`, `house`), the state (`us-wa`), every
committee the member sits on (`ssfr`, `hsfa`, lower case) and `foreign-affairs`
for the two foreign-affairs committees.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import RegisterError
from . import forms
from .entries import RegisterEntry, need, slug
from .readers import read_json, read_yaml

NAME = "congress-legislators"
URL = "https://github.com/unitedstates/congress-legislators"
# Compiled by the unitedstates project from the House Clerk's and the Senate's own
# data: another's compilation of official sources, so "medium" until checked.
CONFIDENCE = "medium"
FOREIGN_AFFAIRS = {"SSFR", "HSFA"}  # Senate Foreign Relations, House Foreign Affairs
# Not states: a delegate each, and Puerto Rico's resident commissioner.
TERRITORIES = {"DC", "PR", "GU", "VI", "AS", "MP"}
_DC_ADDRESS = re.compile(
    r"^(?P<street>.+?),?\s+Washington,?\s+D\.?\s?C\.?,?\s+(?P<zip>\d{5}(?:-\d{4})?)$", re.I
)
_HINT = "is this the register's own legislators-current.yaml?"


def _read(path: Path) -> Any:
    """The YAML file, or the JSON one the project publishes beside it (faster to read)."""
    return read_json(path) if path.suffix.lower() == ".json" else read_yaml(path)


def committees(path: Path) -> dict[str, list[str]]:
    """bioguide id -> the committees (ids as the file gives them) the member sits on."""
    data = _read(path)
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise RegisterError(
            f"{path}: is not a committee-membership file (a table of committee ids, "
            "each with a list of members); give committee-membership-current.yaml"
        )
    seats: dict[str, list[str]] = {}
    for committee, members in data.items():
        for index, member in enumerate(members):
            bioguide = member.get("bioguide") if isinstance(member, dict) else None
            if not bioguide:
                raise RegisterError(
                    f"{path}: {committee} entry {index + 1}: field 'bioguide' is missing; "
                    "every member of a committee needs one"
                )
            seats.setdefault(str(bioguide), []).append(str(committee))
    return seats


def _office(term: dict[str, Any], roles: list[Any]) -> str:
    if term.get("type") == "sen":
        return "senator"
    if any(
        isinstance(r, dict) and r.get("title") == "Speaker of the House" and not r.get("end")
        for r in roles
    ):
        return "speaker"
    return "delegate" if term.get("state") in TERRITORIES else "representative"


def _address(term: dict[str, Any]) -> dict[str, str]:
    """The DC office as address fields, from `office` and the postcode of `address`."""
    match = _DC_ADDRESS.match(str(term.get("address") or "").strip())
    if not match:
        return {}
    street = str(term.get("office") or match["street"]).strip()
    return {
        "street_address": street,
        "city": "Washington",
        "country_area": "DC",
        "postal_code": match["zip"],
    }


def _entry(raw: Any, index: int, shown: Path, seats: dict[str, list[str]]) -> RegisterEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), dict):
        raise RegisterError(
            f"{shown}: entry {index + 1}: is not a legislator (no 'id' table with a "
            f"'bioguide'); {_HINT}"
        )
    bioguide = str(
        need(raw["id"].get("bioguide"), shown, f"entry {index + 1}", "id.bioguide", _HINT)
    )
    label = f"entry {index + 1} (bioguide {bioguide})"
    name = need(raw.get("name"), shown, label, "name", "every legislator has a name")
    if not isinstance(name, dict):
        raise RegisterError(
            f"{shown}: {label}: field 'name' must be a table (first, last); {_HINT}"
        )
    last = str(need(name.get("last"), shown, label, "name.last", "every legislator has one"))
    full = str(name.get("official_full") or f"{name.get('first', '')} {last}").strip()
    terms = need(raw.get("terms"), shown, label, "terms", "a current member has a term")
    term = terms[-1] if isinstance(terms, list) else None
    if not isinstance(term, dict) or term.get("type") not in ("sen", "rep"):
        raise RegisterError(
            f"{shown}: {label}: field 'terms' must end with a term of type sen or rep; {_HINT}"
        )
    state = str(need(term.get("state"), shown, label, "terms.state", _HINT))
    roles = raw.get("leadership_roles")
    office = forms.US_OFFICES[_office(term, roles if isinstance(roles, list) else [])]
    bio = raw.get("bio")
    bio = bio if isinstance(bio, dict) else {}
    gender = str(bio.get("gender") or "")
    name_line, salutation = forms.address_as(office, full=full, last=last, gender=gender)
    tags = ["us-congress", "senate" if term["type"] == "sen" else "house", f"us-{state.lower()}"]
    seats_of = seats.get(bioguide, [])
    tags += [c.lower() for c in seats_of]
    if FOREIGN_AFFAIRS & set(seats_of):
        tags.append("foreign-affairs")
    fields: dict[str, Any] = {
        "id": f"us-{slug(last)}-{bioguide.lower()}",
        "register_id": f"bioguide:{bioguide}",
        "country": "US",
        "name": name_line,
        "organisation": office.organisation,
        "salutation": {"en": salutation},
        "languages": ["en-US"],
        "address": _address(term),
        "web_form": str(term.get("contact_form") or ""),
        "tags": tags,
        "confidence": CONFIDENCE,
        "notes": f"Phone: {term['phone']}" if term.get("phone") else "",
    }
    return RegisterEntry(label, fields)


def read(path: Path, committee_file: Path | None) -> tuple[list[RegisterEntry], list[str]]:
    """The members of `path` as entries, and what the reader should know."""
    data = _read(path)
    if not isinstance(data, list):
        raise RegisterError(
            f"{path}: is not a congress-legislators list (a YAML list of legislators); {_HINT}"
        )
    seats = committees(committee_file) if committee_file else {}
    entries = [_entry(raw, index, path, seats) for index, raw in enumerate(data)]
    warnings = []
    homeless = [e.fields["id"] for e in entries if not e.fields["address"]]
    if homeless:
        warnings.append(
            f"{len(homeless)} member(s) have no DC office in the register (no address is "
            f"printed for them): {', '.join(homeless[:5])}"
        )
    if committee_file is None:
        warnings.append("no --committees file given: entries carry no committee tags")
    return entries, warnings
