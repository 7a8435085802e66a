"""Every warning a user meets about a letter, worded once: `render`, `preview` (the
terminal and the page), `recipients check` and `send --via` all say the same thing
in the same words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import l10n

DRAFT_STATES = ("machine-drafted", "draft")


@dataclass(frozen=True)
class LetterWarning:
    """One thing to check before printing; `kind` lets the page show it as a badge."""

    kind: str  # placeholder-sender, no-address, unverified, machine-drafted, fell-back
    message: str


def _some(ids: Sequence[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (", ..." if len(ids) > shown else "")


def placeholder_sender() -> LetterWarning:
    return LetterWarning(
        "placeholder-sender",
        "campaign.toml: the sender is an example placeholder; set [sender] and "
        "[signature] to your own organisation before printing",
    )


def _fill_address(withheld: str) -> str:
    if "no postal address" in withheld:
        return "fill in its address (street_address, postal_code, city) from the office's own page"
    return "check its address with the office and set verified: <the date you checked>"


def no_address(withheld: str) -> LetterWarning:
    return LetterWarning(
        "no-address",
        f"{withheld}: its letter fails, or with --allow-no-address is rendered without an "
        f"address, marked ADDRESS MISSING; {_fill_address(withheld)}",
    )


def no_address_failure(recipient: str, withheld: str) -> str:
    """Why a letter without an address block is not rendered, in one line."""
    return (
        f"{recipient}: {withheld}, so its letter is not rendered; {_fill_address(withheld)}, "
        "or render with --allow-no-address to print it marked ADDRESS MISSING"
    )


def unverified() -> LetterWarning:
    return LetterWarning(
        "unverified",
        "not verified with the office itself; check the address and names, then set "
        "verified to the date you checked",
    )


def drafted(language: str, state: str) -> LetterWarning:
    return LetterWarning(
        "machine-drafted",
        f"{l10n.language_name(language)} text is {state}; have a native speaker review "
        f"locales/{language}",
    )


def fell_back(wanted: str, language: str) -> LetterWarning:
    return LetterWarning(
        "fell-back",
        f"no complete {l10n.language_name(wanted)} ({wanted}) translation: the letter is in "
        f"{l10n.language_name(language)}",
    )


# -- a whole batch, in one line each ------------------------------------------------


def fell_back_batch(letters: Sequence[str]) -> str:
    return (
        f"{len(letters)} letter(s) are not in the recipient's first language, which has no "
        f"complete translation: {', '.join(sorted(letters))}"
    )


def unverified_batch(ids: Sequence[str]) -> str:
    return (
        f"{len(ids)} recipient(s) are not verified with the office itself ({_some(ids)}); "
        "check addresses before sending"
    )


def no_email_batch(ids: Sequence[str]) -> str:
    return (
        f"{len(ids)} recipient(s) have no email address, so no .eml was written for them "
        f"({_some(ids, 8)}); post their PDF letters, or hand them to a group with "
        "'advocacy send --via'"
    )


def cover_note_fell_back(template: str, language: str, fallback: str) -> str:
    return (
        f"templates/{template}: the cover note has no complete "
        f"{l10n.language_name(language)} translation yet; groups writing {language} get it "
        f"in {l10n.language_name(fallback)}"
    )
