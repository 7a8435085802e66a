"""The plain-text part of an email letter, made from the letter's own HTML.

Deriving it from the HTML (rather than from a second template) keeps the two
parts of a message saying the same thing in the same, translated words; the
blocks come from the same reader as the terminal preview's (`letter.blocks`).
"""

from __future__ import annotations

import textwrap

from ..letter.blocks import Block, html_to_blocks

WIDTH = 76


def _lines(block: Block) -> str:
    prefix = {"": "", "•": "- "}.get(block.marker, f"{block.marker} ")
    indent = " " * len(prefix)
    return "\n".join(
        textwrap.fill(
            line,
            WIDTH,
            initial_indent=prefix if i == 0 else indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for i, line in enumerate(block.text.split("\n"))
    )


def html_to_text(html: str) -> str:
    """The letter as plain text: letterhead, address lines, paragraphs, numbered demands;
    a blank line between blocks, none inside a group (the co-signatories)."""
    parts: list[str] = []
    previous: int | None = None
    for block in html_to_blocks(html, letterhead=True, images=False):
        if parts:
            together = block.group is not None and block.group == previous
            parts.append("\n" if together else "\n\n")
        parts.append(_lines(block))
        previous = block.group
    return "".join(parts) + "\n"
