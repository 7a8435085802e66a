"""How an office-holder is addressed, by the forms of their country: the line
above the organisation in the address, and the salutation.

United States, from the Department of Commerce's "Models of Address and
Salutation" (ita.doc.gov/ita_sec, captured by the Wayback Machine on
2012-11-27): a Senator is "The Honorable (Name) / United States Senate /
Washington, D.C. 20510 / Dear Senator (Name):", a Representative "The Honorable
(Name) / U.S. House of Representatives / Washington, D.C. 20515 / Dear
Representative (Name):", the Speaker "Dear Mr. Speaker:". The same office's
correspondence guide gives "Dear Mr. or Ms. (last name)" as the salutation
otherwise; the delegates and the resident commissioner, whom it does not list,
get that one. Every federal elected official is "The Honorable" (FHWA
correspondence manual, appendix C).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Office:
    organisation: str
    name_form: str  # the name line: {full} is the person's full name
    salutation: dict[str, str]  # by form: "neutral", "female", "male"; {last} the surname


_HONORABLE = "The Honorable {full}"
US_OFFICES = {
    "senator": Office("United States Senate", _HONORABLE, {"neutral": "Dear Senator {last}:"}),
    "representative": Office(
        "U.S. House of Representatives", _HONORABLE, {"neutral": "Dear Representative {last}:"}
    ),
    "speaker": Office(
        "U.S. House of Representatives",
        _HONORABLE,
        {
            "neutral": "Dear Speaker {last}:",
            "male": "Dear Mr. Speaker:",
            "female": "Dear Madam Speaker:",
        },
    ),
    # Delegates (DC and the territories) and Puerto Rico's resident commissioner.
    "delegate": Office(
        "U.S. House of Representatives",
        _HONORABLE,
        {"neutral": "Dear {full}:", "male": "Dear Mr. {last}:", "female": "Dear Ms. {last}:"},
    ),
}
GENDER_FORMS = {"F": "female", "M": "male"}


def address_as(office: Office, *, full: str, last: str, gender: str = "") -> tuple[str, str]:
    """(name line, salutation) of `full` (surname `last`) holding `office`."""
    form = GENDER_FORMS.get(gender.upper(), "neutral")
    salutation = office.salutation.get(form) or office.salutation["neutral"]
    return office.name_form.format(full=full), salutation.format(full=full, last=last)
