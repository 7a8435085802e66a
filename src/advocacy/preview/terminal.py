"""`advocacy preview`: one letter as readable text, and the warnings a writer must see.

Library code: it composes the letter with `compose.Composer` (the same HTML
the PDF is made from) and turns that HTML into blocks of text; `cli.py`
styles and prints them. No PDF is made here, so WeasyPrint is never imported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import RecipientError
from ..i18n import l10n
from ..letter import gaps, wording
from ..letter.blocks import Block, html_to_blocks
from ..letter.compose import Composer, Letter
from ..letter.wording import LetterWarning


def campaign_warnings(campaign: Campaign) -> list[LetterWarning]:
    return [wording.placeholder_sender()] if campaign.config.sender.placeholder else []


def letter_warnings(
    composer: Composer, recipient: Recipient, letter: Letter
) -> list[LetterWarning]:
    """What is wrong or unchecked about one letter (the same facts `render` warns about)."""
    found: list[LetterWarning] = []
    if recipient.address_withheld:
        found.append(wording.no_address(recipient.address_withheld))
    if not recipient.is_verified:
        found.append(wording.unverified())
    for language, state in letter.review.items():
        if state in wording.DRAFT_STATES:
            found.append(wording.drafted(language, state))
    gap = gaps.find_gap(composer, [recipient])
    if gap:
        # A draft is still shown (in the fallback language), with what render would say.
        shown = "" if composer.campaign.defaulted else str(composer.campaign.root)
        found.append(LetterWarning("untranslated", gaps.block(gap, shown, composer.fallback)))
    elif letter.fell_back_from:
        found.append(wording.fell_back(letter.fell_back_from, letter.languages[0]))
    return found


# -- one letter ------------------------------------------------------------------


@dataclass
class LetterPreview:
    recipient_id: str
    organisation: str
    country: str
    language: str
    language_name: str
    review: str  # source, hand-written, machine-drafted, draft, reviewed
    paper: str
    subject: str
    sender: str
    blocks: list[Block]
    warnings: list[LetterWarning]
    others: list[tuple[str, str]] = field(default_factory=list)  # (id, language)

    def as_text(self) -> str:
        """Plain text of the whole preview (for pipes and tests)."""
        lines = [
            f"Recipient: {self.recipient_id} — {self.organisation} ({self.country})",
            f"Language:  {self.language} ({self.language_name}, {self.review})",
            f"Paper:     {self.paper}",
            f"Subject:   {self.subject}",
            "",
        ]
        for block in self.blocks:
            lines += [f"{block.marker} {block.text}".strip(), ""]
        lines += [f"warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)


def _language_label(letter: Letter) -> tuple[str, str]:
    names = " + ".join(l10n.language_name(lang) for lang in letter.languages)
    states = sorted(set(letter.review.values()))
    return names, ", ".join(states)


def preview_letter(
    campaign: Campaign,
    selectors: list[str] | None = None,
    *,
    language: str | None = None,
    today: dt.date | None = None,
) -> LetterPreview:
    """Compose the first selected recipient's letter (all recipients when none is given)."""
    chosen = select(campaign.recipients, selectors or [])
    if not chosen:
        raise RecipientError("the campaign's recipient lists are empty; add a recipient")
    composer = Composer(campaign, today=today, language=language)
    recipient = chosen[0]
    letter = composer.compose(recipient)
    names, review = _language_label(letter)
    others = [(r.id, "+".join(composer.choose(r)[0])) for r in chosen[1:]]
    return LetterPreview(
        recipient_id=recipient.id,
        organisation=recipient.text(recipient.organisation, letter.languages),
        country=recipient.country,
        language=letter.language,
        language_name=names,
        review=review,
        paper=letter.paper,
        subject=letter.subject,
        sender=campaign.config.sender.organisation,
        blocks=html_to_blocks(letter.html),
        warnings=campaign_warnings(campaign) + letter_warnings(composer, recipient, letter),
        others=others,
    )
