"""The letter's HTML read back as text blocks, in reading order: one parser for the
terminal preview and the email's plain-text part, so both say the same thing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Block:
    """A paragraph of the letter as it reads: `kind` picks its style in the terminal."""

    kind: str  # letterhead, address, date, subject, heading, paragraph, item, note
    text: str  # lines joined by "\n"
    marker: str = ""  # "1." or "•" for list items
    group: int | None = None  # blocks of one group (cosignatories) belong together


_BLOCK_TAGS = {
    *("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "address", "div", "section", "main"),
    *("header", "footer", "article", "blockquote", "body", "table", "tr"),
}
_VOID = {"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"}
_SKIP_TAGS = {"head", "style", "script", "title", "template"}
# Print-only furniture: fold and hole marks, the one-line return address of the window.
_SKIP_CLASSES = {"mark", "return-address"}
# Elements the stylesheet shows as lines of their own inside one block.
_LINE_CLASSES = {"line", "cs-name", "cs-detail"}
# Read as one block of short lines (close, name, role; the sender's letterhead).
_GROUP_CLASSES = {"signature", "letterhead"}
# Blocks that belong together without a blank line between them.
_COMPACT_CLASSES = {"recipient", "cosignatories"}
_KIND_BY_CLASS = {
    "letterhead": "letterhead",
    "date": "date",
    "subject": "subject",
    "placeholder-note": "note",
    "version-note": "heading",
}


class _Reader(HTMLParser):
    def __init__(self, images: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.images = images
        self.blocks: list[Block] = []
        self._stack: list[tuple[str, bool, bool, int | None]] = []  # tag, skip, group, compact
        self._skip = 0
        self._parts: list[str] = []
        self._kind = "paragraph"
        self._marker = ""
        self._lists: list[list[int | str]] = []  # [kind, counter] per open list
        self._group = 0  # depth inside a _GROUP_CLASSES element
        self._group_kind = "paragraph"
        self._next_compact = 0

    def _compact(self) -> int | None:
        return next((c for *_, c in reversed(self._stack) if c is not None), None)

    def _flush(self) -> None:
        lines = [" ".join(line.split()) for line in "".join(self._parts).split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(Block(self._kind, text, self._marker, self._compact()))
        self._parts = []
        self._kind = "paragraph"
        self._marker = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if tag == "img":
            alt = attributes.get("alt")
            if alt and self.images and not self._skip:
                self._parts.append(f"[{alt}]")
            return
        if tag == "br":
            self._parts.append("\n")
            return
        if tag in _VOID:
            return
        hidden = attributes.get("aria-hidden") == "true"
        skipped = tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES) or hidden
        grouped = bool(classes & _GROUP_CLASSES)
        compact = None
        if not skipped and not self._skip and classes & _COMPACT_CLASSES:
            compact = self._next_compact
            self._next_compact += 1
        self._stack.append((tag, skipped, grouped, compact))
        if skipped:
            self._skip += 1
        if self._skip:
            return
        if self._group and tag in _BLOCK_TAGS:
            self._parts.append("\n")
        elif grouped:
            self._flush()
            self._group += 1
            self._kind = self._kind_of(tag, classes)
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
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            return "heading"
        return "paragraph"

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(entry[0] == tag for entry in self._stack):
            return
        while self._stack:
            open_tag, skipped, grouped, _ = self._stack[-1]
            if skipped:
                self._skip -= 1
            elif self._skip:
                pass
            elif grouped:
                self._group -= 1
                kind = self._kind
                self._flush_as(kind)
            elif self._group:
                self._parts.append("\n")
            elif open_tag in ("ol", "ul") and self._lists:
                self._flush()
                self._lists.pop()
            elif open_tag in _BLOCK_TAGS:
                self._flush()
            self._stack.pop()
            if open_tag == tag:
                break

    def _flush_as(self, kind: str) -> None:
        self._kind = kind
        self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_blocks(html: str, *, letterhead: bool = False, images: bool = True) -> list[Block]:
    """The letter's text in reading order, without the paper-only furniture; the
    sender's letterhead only with `letterhead` (the terminal names the sender above the
    text), images as `[alt text]` only with `images`."""
    reader = _Reader(images)
    reader.feed(html)
    reader.close()
    if letterhead:
        return reader.blocks
    return [block for block in reader.blocks if block.kind != "letterhead"]
