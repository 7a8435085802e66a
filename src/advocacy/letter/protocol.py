"""Forms of address: which salutation and close a letter carries, and how its body starts.

One table (assets/protocol.toml, overridable in a campaign's
locales/protocol.toml) gives, per language and where usage differs per
country, the salutation for each office (the neutral double form, or the form
for a named woman or man) and the close. A recipient's own `salutation` and
`close` for the letter's language come first. The salutation's language also
decides how the body begins after it: German, Czech and Slovak go on in lower
case after a comma.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..campaign.recipients import Recipient
from ..errors import BadInput
from ..i18n import l10n
from ..paths import ASSETS_DIR

TABLE_FILE = ASSETS_DIR / "protocol.toml"
CAMPAIGN_TABLE = Path("locales") / "protocol.toml"
FORMS = ("neutral", "female", "male")
_SETTINGS = {"close", "body_after_comma", "date_in_text"}
_END = re.compile(r"[\s,:;!]+$")


@dataclass(frozen=True)
class Courtesy:
    salutation: str
    close: str
    appellation: str  # the salutation without its final punctuation
    body_lower: bool  # the body goes on in lower case after this salutation
    note: str = ""  # why a form was chosen that the recipient did not ask for


def _read(path: Path, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{shown}: malformed TOML: {exc}; fix the file") from None


@lru_cache(maxsize=32)
def _table(campaign_root: Path | None, stamp: float) -> dict[str, dict[str, Any]]:
    table = _read(TABLE_FILE, "advocacy/protocol.toml")
    if campaign_root is not None:
        own = _read(campaign_root / CAMPAIGN_TABLE, CAMPAIGN_TABLE.as_posix())
        for tag, entries in own.items():
            if not isinstance(entries, dict):
                raise BadInput(f"{CAMPAIGN_TABLE}: [{tag}] must be a table of forms")
            table.setdefault(tag, {}).update(entries)
    return table


def table(campaign_root: Path | None = None) -> dict[str, dict[str, Any]]:
    """The bundled forms with the campaign's own overrides (re-read when that file changes)."""
    own = campaign_root / CAMPAIGN_TABLE if campaign_root else None
    if own is None or not own.is_file():
        return _table(None, 0.0)
    return _table(campaign_root, own.stat().st_mtime)


def office_of(recipient: Recipient) -> str:
    if recipient.office:
        return recipient.office
    return "minister" if "mfa" in recipient.tags else "none"


def _entries(forms: dict[str, dict[str, Any]], language: str, country: str) -> dict[str, Any]:
    """The language's table with the country's variant laid over it, office by office."""
    merged = dict(forms.get(language, {}))
    merged.update(forms.get(f"{language}-{country.upper()}", {}))
    return merged


def _strip(salutation: str) -> str:
    return _END.sub("", salutation)


def courtesy(recipient: Recipient, language: str, *, forms: dict[str, dict[str, Any]]) -> Courtesy:
    """Salutation and close of `recipient`'s letter in `language`."""
    entries = _entries(forms, language, recipient.country)
    office = office_of(recipient)
    form = recipient.addressee_person.form if recipient.addressee_person else "neutral"
    if office not in known_offices(forms):
        raise BadInput(
            f"recipient {recipient.id!r}: field 'office' {office!r} is not an office "
            f"protocol.toml knows; use one of {', '.join(sorted(known_offices(forms)))}, "
            f"or add it to {CAMPAIGN_TABLE}"
        )
    note = ""
    found = entries.get(office)
    titles: dict[str, Any] = found if isinstance(found, dict) else {}
    if not titles:
        generic = entries.get("none")
        titles = generic if isinstance(generic, dict) else {}
        if office != "none" and language not in recipient.salutation:
            note = (
                f"protocol.toml has no {l10n.language_name(language)} form of address for "
                f"office {office!r}: the letter greets the office-holder generically; add "
                f"salutation.{language} to the recipient or [{language}.{office}] to "
                f"{CAMPAIGN_TABLE}"
            )
    salutation = recipient.salutation.get(language) or str(
        titles.get(form) or titles.get("neutral") or ""
    )
    close_form = recipient.close.get(language) or str(
        titles.get("close") or entries.get("close", "")
    )
    if not salutation or not close_form:
        missing = "salutation" if not salutation else "close"
        raise BadInput(
            f"recipient {recipient.id!r}: no {missing} in {l10n.language_name(language)} "
            f"({language}): add {missing}.{language} to the recipient, or a [{language}] "
            f"table to {CAMPAIGN_TABLE}"
        )
    appellation = _strip(salutation)
    body_lower = entries.get("body_after_comma") == "lower" and salutation.rstrip().endswith(",")
    return Courtesy(
        salutation, close_form.replace("{appellation}", appellation), appellation, body_lower, note
    )


_FIRST_LETTER = re.compile(r"^((?:\s|<[^>]*>)*)(\w)", re.UNICODE)


def body_start(html: str, lower: bool) -> Markup:
    """Capitalise the body's first letter unless it goes on after a comma in lower case.

    Only ever upper-cases: a catalog of a lower-after-comma language writes its
    first sentence in lower case, and lowering a German noun would be wrong.
    """
    if lower:
        return Markup(html)
    return Markup(_FIRST_LETTER.sub(lambda m: m.group(1) + m.group(2).upper(), str(html), count=1))


def date_in_text(forms: dict[str, dict[str, Any]], language: str, country: str) -> str:
    """The date pattern for dates inside sentences ("long" unless the language says)."""
    return str(_entries(forms, language, country).get("date_in_text") or "long")


def known_offices(forms: dict[str, dict[str, Any]]) -> set[str]:
    return {
        key
        for entries in forms.values()
        for key, value in entries.items()
        if key not in _SETTINGS and isinstance(value, dict)
    }
