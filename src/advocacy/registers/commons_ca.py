"""The built-in `ca-house-of-commons` source: the House of Commons of Canada's
XML of current members (www.ourcommons.ca/Members/en/search/XML).

The XML names each member (PersonId, honorific, names, riding, province,
caucus) but gives no address: every member gets mail at the House itself,
"House of Commons, Ottawa, Ontario K1A 0A6" (postage-free), as the guides for
writing to an MP give it; hence confidence "medium". The name line follows the
House's honorific ("Right Hon." -> "The Right Honourable") with "M.P." after the
name; the salutation uses the name, never a title guessed from a gender.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from ..errors import RegisterError
from .entries import RegisterEntry, need, slug
from .readers import read_text

NAME = "ca-house-of-commons"
URL = "https://www.ourcommons.ca/Members/en/search/XML"
CONFIDENCE = "medium"
HONORIFICS = {"hon.": "The Honourable", "right hon.": "The Right Honourable"}
HOUSE_ADDRESS = {"city": "Ottawa", "country_area": "ON", "postal_code": "K1A 0A6"}
PROVINCES = {
    "Alberta": "ab", "British Columbia": "bc", "Manitoba": "mb", "New Brunswick": "nb",
    "Newfoundland and Labrador": "nl", "Northwest Territories": "nt", "Nova Scotia": "ns",
    "Nunavut": "nu", "Ontario": "on", "Prince Edward Island": "pe", "Quebec": "qc",
    "Saskatchewan": "sk", "Yukon": "yt",
}  # fmt: skip
_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY)", re.I)
_HINT = "is this the House's /Members/en/search/XML file?"


def _text(el: ElementTree.Element, tag: str) -> str:
    return (el.findtext(tag) or "").strip()


def read(path: Path) -> tuple[list[RegisterEntry], list[str]]:
    raw = read_text(path)
    if _DECLARATION.search(raw):
        raise RegisterError(
            f"{path}: declares a DOCTYPE or entities, which the House's XML never does; "
            "download the file again"
        )
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise RegisterError(f"{path}: malformed XML: {exc}") from None
    members = root.findall(".//MemberOfParliament")
    if not members:
        raise RegisterError(f"{path}: has no <MemberOfParliament> entries; {_HINT}")
    entries, former = [], 0
    for index, el in enumerate(members):
        label = f"entry {index + 1}"
        person = need(_text(el, "PersonId"), path, label, "PersonId", _HINT)
        label = f"entry {index + 1} (PersonId {person})"
        if _text(el, "ToDateTime"):
            former += 1  # a member whose seat has ended
            continue
        first = need(_text(el, "PersonOfficialFirstName"), path, label,
                     "PersonOfficialFirstName", _HINT)  # fmt: skip
        last = need(_text(el, "PersonOfficialLastName"), path, label,
                    "PersonOfficialLastName", _HINT)  # fmt: skip
        honorific = HONORIFICS.get(_text(el, "PersonShortHonorific").lower(), "")
        province = _text(el, "ConstituencyProvinceTerritoryName")
        tags = ["ca-parliament", "commons"]
        if province in PROVINCES:
            tags.append(f"ca-{PROVINCES[province]}")
        riding = ", ".join(p for p in (_text(el, "ConstituencyName"), province) if p)
        fields = {
            "id": f"ca-{slug(last)}-{person}",
            "register_id": f"ourcommons:{person}",
            "country": "CA",
            "name": f"{honorific} {first} {last}, M.P.".strip(),
            "organisation": "House of Commons",
            "salutation": {"en": f"Dear {first} {last},"},
            "languages": ["en-CA", "fr-CA"],
            "address": dict(HOUSE_ADDRESS),
            "address_omits": ["street_address"],
            "tags": tags,
            "confidence": CONFIDENCE,
            "notes": f"Riding: {riding}" if riding else "",
        }
        entries.append(RegisterEntry(label, fields))
    warnings = (
        [f"{former} former member(s) left out (their seat has an end date)"] if former else []
    )
    return entries, warnings
