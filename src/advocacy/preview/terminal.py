"""`advocacy preview`: one letter as readable text, and the warnings a writer must see.

Library code: it composes the letter with `compose.Composer` (the same HTML
the PDF is made from) and turns that HTML into blocks of text; `cli.py`
styles and prints them. No PDF is made here, so WeasyPrint is never imported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ..campaign.discovery import find_campaign
from ..campaign.model import Campaign, load_campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import RecipientError
from ..i18n import l10n
from ..letter.compose import Composer, Letter

DRAFT_STATES = ("machine-drafted", "draft")


@dataclass(frozen=True)
class LetterWarning:
    """One thing to check before printing; `kind` lets the page show it as a badge."""

    kind: str  # placeholder-sender, no-address, unverified, machine-drafted, fell-back
    message: str


def campaign_warnings(campaign: Campaign) -> list[LetterWarning]:
    if campaign.config.sender.placeholder:
        return [
            LetterWarning(
                "placeholder-sender",
                "campaign.toml: the sender is an example placeholder; set [sender] and "
                "[signature] to your own organisation before printing",
            )
        ]
    return []


def letter_warnings(
    composer: Composer, recipient: Recipient, letter: Letter
) -> list[LetterWarning]:
    """What is wrong or unchecked about one letter (the same facts `render` warns about)."""
    found: list[LetterWarning] = []
    withheld = recipient.address_withheld
    if withheld:
        found.append(
            LetterWarning(
                "no-address",
                f"{withheld}: the letter has no address block; add a checked address",
            )
        )
    if not recipient.is_verified:
        found.append(
            LetterWarning(
                "unverified",
                "not verified with the office itself; check the address and names, then set "
                "verified to the date you checked",
            )
        )
    for language, state in letter.review.items():
        if state in DRAFT_STATES:
            found.append(
                LetterWarning(
                    "machine-drafted",
                    f"{l10n.language_name(language)} text is {state}; have a native speaker "
                    f"review locales/{language}",
                )
            )
    if letter.fell_back_from:
        wanted = letter.fell_back_from
        found.append(
            LetterWarning(
                "fell-back",
                f"no complete {l10n.language_name(wanted)} ({wanted}) translation: the letter "
                f"is in {l10n.language_name(letter.languages[0])}",
            )
        )
    return found


# -- HTML -> text ----------------------------------------------------------------


@dataclass
class Block:
    """A paragraph of the letter as it reads: `kind` picks its style in the terminal."""

    kind: str  # address, date, subject, heading, paragraph, item, note
    text: str
    marker: str = ""  # "1." or "•" for list items


_BLOCK_TAGS = {"p", "h1", "h2", "h3", "li", "address", "div", "section", "main", "header"}
_VOID = {"br", "img", "meta", "link", "hr", "input", "wbr"}
# Furniture that only makes sense on paper: marks, the sender's letterhead and
# the return-address line (the header above the text names the sender instead).
_SKIP_CLASSES = {"mark", "letterhead", "return-address"}
_SKIP_TAGS = {"head", "style", "script", "title", "template"}
# Elements the stylesheet shows as lines of their own inside one block.
_LINE_CLASSES = {"line", "cs-name", "cs-detail"}
# Sections read as one block of short lines (close, name, role, organisation).
_GROUP_CLASSES = {"signature"}
_KIND_BY_CLASS = {
    "date": "date",
    "subject": "subject",
    "placeholder-note": "note",
    "version-note": "heading",
}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, grouped)
        self._skip = 0
        self._parts: list[str] = []
        self._kind = "paragraph"
        self._marker = ""
        self._lists: list[list[int | str]] = []  # [kind, counter] per open list
        self._group = 0  # depth inside a _GROUP_CLASSES element

    def _flush(self) -> None:
        lines = [" ".join(line.split()) for line in "".join(self._parts).split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(Block(self._kind, text, self._marker))
        self._parts = []
        self._kind = "paragraph"
        self._marker = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._skip:
                self._parts.append(f"[{alt}]")
            return
        if tag == "br":
            self._parts.append("\n")
            return
        if tag in _VOID:
            return
        skipped = tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES)
        grouped = bool(classes & _GROUP_CLASSES)
        self._stack.append((tag, skipped, grouped))
        if skipped:
            self._skip += 1
        if self._skip:
            return
        if self._group and tag in _BLOCK_TAGS:
            self._parts.append("\n")
        elif grouped:
            self._flush()
            self._group += 1
        elif tag in ("ol", "ul"):
            self._flush()
            self._lists.append([tag, 0])
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._kind = self._kind_of(tag, classes)
            if tag == "li" and self._lists:
                current = self._lists[-1]
                current[1] = int(current[1]) + 1
                self._marker = f"{current[1]}." if current[0] == "ol" else "•"
        elif classes & _LINE_CLASSES:
            self._parts.append("\n")

    @staticmethod
    def _kind_of(tag: str, classes: set[str]) -> str:
        for name, kind in _KIND_BY_CLASS.items():
            if name in classes:
                return kind
        if tag == "address":
            return "address"
        if tag == "li":
            return "item"
        if tag in ("h1", "h2", "h3"):
            return "heading"
        return "paragraph"

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(entry[0] == tag for entry in self._stack):
            return
        while self._stack:
            open_tag, skipped, grouped = self._stack.pop()
            if skipped:
                self._skip -= 1
            elif self._skip:
                pass
            elif grouped:
                self._group -= 1
                self._flush()
            elif self._group:
                self._parts.append("\n")
            else:
                if open_tag in ("ol", "ul") and self._lists:
                    self._flush()
                    self._lists.pop()
                elif open_tag in _BLOCK_TAGS:
                    self._flush()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_blocks(html: str) -> list[Block]:
    """The letter's text in reading order, without the paper-only furniture."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.blocks


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
    campaign_dir: Path | None,
    selectors: list[str] | None = None,
    *,
    language: str | None = None,
    today: dt.date | None = None,
) -> LetterPreview:
    """Compose the first selected recipient's letter (all recipients when none is given)."""
    root, bundled = find_campaign(campaign_dir)
    campaign = load_campaign(root, bundled=bundled)
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
