"""The built-in `ep-meps` source: the European Parliament's Open Data API v2
(data.europarl.europa.eu, CC BY 4.0).

FILE is a `/api/v2/meps/show-current` response (its `data` list: identifier,
givenName, familyName, country of representation, political group); `--contacts
DIR` is a folder of `/api/v2/meps/{id}` responses saved as `{id}.json`, whose
`hasEmail` gives each member's address at the Parliament.

The API gives no postal address: MEPs are written to at the Parliament in
Brussels, at the address its own MEP pages print ("60, rue Wiertz /
Wiertzstraat 60, B-1047 Bruxelles/Brussel"), without the office number, which
only each member's page gives; hence confidence "medium". The salutation uses
the name, never a title guessed from a gender.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import RegisterError
from .entries import RegisterEntry, need, slug
from .readers import contact_file, contacts_folder, read_json

NAME = "ep-meps"
URL = "https://data.europarl.europa.eu/api/v2/meps/show-current"
CONFIDENCE = "medium"
BRUSSELS = {
    "street_address": "60, rue Wiertz / Wiertzstraat 60",
    "postal_code": "1047",
    "city": "Bruxelles/Brussel",
    "country_code": "BE",
}
_HINT = "is this an EP Open Data /api/v2/meps/show-current response?"


def _email(folder: Path | None, mep: str) -> str:
    found = contact_file(folder, mep)
    if found is None:
        return ""
    path, data = found
    details = data.get("data") if isinstance(data, dict) else None
    if not isinstance(details, list) or not details or not isinstance(details[0], dict):
        raise RegisterError(f"{path}: is not a /api/v2/meps/{mep} response (no 'data' list)")
    return str(details[0].get("hasEmail") or "").removeprefix("mailto:").strip()


def _entry(raw: Any, index: int, shown: Path, contacts: Path | None) -> RegisterEntry:
    label = f"entry {index + 1}"
    if not isinstance(raw, dict):
        raise RegisterError(f"{shown}: {label}: is not a member; {_HINT}")
    mep = str(need(raw.get("identifier"), shown, label, "identifier", _HINT))
    label = f"entry {index + 1} (MEP {mep})"
    given = str(need(raw.get("givenName"), shown, label, "givenName", _HINT)).strip()
    family = str(need(raw.get("familyName"), shown, label, "familyName", _HINT)).strip()
    country = str(raw.get("api:country-of-representation") or "").strip()
    group = str(raw.get("api:political-group") or "").strip()
    tags = ["ep", "mep"]
    tags += [f"ep-{country.lower()}"] if country else []
    tags += [f"ep-group-{slug(group)}"] if group else []
    fields: dict[str, Any] = {
        "id": f"ep-{slug(family)}-{mep}",
        "register_id": f"ep:{mep}",
        "country": "EU",
        "name": f"{given} {family}",
        "organisation": "European Parliament",
        "salutation": {"en": f"Dear {given} {family},"},
        "languages": ["en"],
        "address": dict(BRUSSELS),
        "email": _email(contacts, mep),
        "tags": tags,
        "confidence": CONFIDENCE,
        "notes": "The office number in the Parliament's building is on the member's page "
        f"(www.europarl.europa.eu/meps/en/{mep}).",
    }
    return RegisterEntry(label, fields)


def read(path: Path, contacts: Path | None) -> tuple[list[RegisterEntry], list[str]]:
    data = read_json(path)
    members = data.get("data") if isinstance(data, dict) else None
    if not isinstance(members, list):
        raise RegisterError(f"{path}: has no list of members ('data'); {_HINT}")
    contacts_folder(contacts, "/api/v2/meps/{id}")
    entries = [_entry(raw, index, path, contacts) for index, raw in enumerate(members)]
    without = [e.fields["id"] for e in entries if not e.fields["email"]]
    warnings = []
    if without and contacts is not None:
        warnings.append(f"{len(without)} member(s) have no email: {', '.join(without[:5])}")
    return entries, warnings
