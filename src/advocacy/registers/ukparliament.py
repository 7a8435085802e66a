"""The built-in `uk-parliament` source: the UK Parliament's Members API
(members-api.parliament.uk, Open Parliament Licence v3.0).

FILE is a `/api/Members/Search` response (or a list of its `items`); `--contacts
DIR` is a folder of `/api/Members/{id}/Contact` responses saved as `{id}.json`,
which give each member's postal address and email (the "Parliamentary office").

The name line is the Parliament's own `nameFullTitle` ("Rt Hon Sir Keir Starmer
MP"); the salutation is its `nameAddressAs` ("Dear Ms Abbott,") where the API
gives one; else a knight or dame by the first name, as Debrett's forms of address
have it ("Dear Sir Keir,"), else the name as displayed ("Dear Alex Baker,"):
never a title guessed from a gender.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import RegisterError
from .entries import RegisterEntry, need, slug
from .readers import contact_file, contacts_folder, read_json

NAME = "uk-parliament"
URL = "https://members-api.parliament.uk"
CONFIDENCE = "high"  # the Parliament's own register
HOUSES = {1: ("House of Commons", "commons"), 2: ("House of Lords", "lords")}
_HINT = "is this a Members API /api/Members/Search response?"


def _contact(folder: Path | None, member_id: int, shown: Path, label: str) -> dict[str, Any]:
    """The member's Parliamentary office from `{folder}/{id}.json`, or {} when there is none."""
    found = contact_file(folder, member_id)
    if found is None:
        return {}
    path, data = found
    offices = data.get("value") if isinstance(data, dict) else None
    if not isinstance(offices, list):
        raise RegisterError(
            f"{path}: is not a /api/Members/{member_id}/Contact response (no 'value' list) "
            f"for {shown}: {label}"
        )
    postal = [o for o in offices if isinstance(o, dict) and not o.get("isWebAddress")]
    preferred = [o for o in postal if o.get("type") == "Parliamentary office"]
    return (preferred or postal or [{}])[0]


def _address(office: dict[str, Any], house: str) -> tuple[str, dict[str, str], list[str]]:
    """(organisation, address fields, fields left out) of an office's lines."""
    lines = [str(office.get(f"line{i}") or "").strip() for i in range(1, 6)]
    lines = [line for line in lines if line]
    postcode = str(office.get("postcode") or "").strip()
    if not lines or not postcode:
        return house, {}, []
    organisation = house
    if lines[0].casefold() == house.casefold():
        lines = lines[1:]
    if not lines:
        return organisation, {}, []
    street, city = lines[:-1], lines[-1]
    fields = {"street_address": "\n".join(street), "city": city, "postal_code": postcode}
    return (
        organisation,
        {k: v for k, v in fields.items() if v},
        [] if street else ["street_address"],
    )


def _address_as(display: str) -> str:
    words = display.split()
    if len(words) >= 3 and words[0] in ("Sir", "Dame"):
        return f"{words[0]} {words[1]}"
    return display


def _entry(raw: Any, index: int, shown: Path, contacts: Path | None) -> RegisterEntry:
    value = raw.get("value") if isinstance(raw, dict) and "value" in raw else raw
    if not isinstance(value, dict) or "id" not in value:
        raise RegisterError(f"{shown}: entry {index + 1}: is not a member (no 'id'); {_HINT}")
    member_id = value["id"]
    label = f"entry {index + 1} (member {member_id})"
    if not isinstance(member_id, int):
        raise RegisterError(f"{shown}: {label}: field 'id' must be a number; {_HINT}")
    full = str(need(value.get("nameFullTitle"), shown, label, "nameFullTitle", _HINT))
    display = str(need(value.get("nameDisplayAs"), shown, label, "nameDisplayAs", _HINT))
    surname = str(value.get("nameListAs") or display).split(",")[0]
    membership = value.get("latestHouseMembership")
    membership = membership if isinstance(membership, dict) else {}
    number = membership.get("house")
    house, tag = HOUSES.get(
        number if isinstance(number, int) else 0, ("UK Parliament", "parliament")
    )
    office = _contact(contacts, member_id, shown, label)
    organisation, address, omits = _address(office, house)
    salutation = f"Dear {value.get('nameAddressAs') or _address_as(display)},"
    fields: dict[str, Any] = {
        "id": f"uk-{slug(surname)}-{member_id}",
        "register_id": f"uk-parliament:{member_id}",
        "country": "GB",
        "name": full,
        "organisation": organisation,
        "salutation": {"en": salutation},
        "languages": ["en-GB"],
        "address": address,
        "address_omits": omits,
        "email": str(office.get("email") or "").strip(),
        "tags": ["uk-parliament", tag],
        "confidence": CONFIDENCE,
        "notes": f"Constituency: {membership['membershipFrom']}"
        if membership.get("membershipFrom")
        else "",
    }
    return RegisterEntry(label, fields)


def read(path: Path, contacts: Path | None) -> tuple[list[RegisterEntry], list[str]]:
    data = read_json(path)
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RegisterError(f"{path}: has no list of members ('items'); {_HINT}")
    contacts_folder(contacts, "/api/Members/{id}/Contact")
    entries = [_entry(raw, index, path, contacts) for index, raw in enumerate(items)]
    homeless = [e.fields["id"] for e in entries if not e.fields["address"]]
    warnings = []
    if homeless:
        warnings.append(
            f"{len(homeless)} member(s) have no postal address (no Contact response in "
            f"--contacts): {', '.join(homeless[:5])}"
        )
    return entries, warnings
