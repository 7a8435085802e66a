"""The plain-text part of an email letter, made from the letter's own HTML.

Deriving it from the HTML (rather than from a second template) keeps the two
parts of a message saying the same thing in the same, translated words.
"""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser

WIDTH = 76
_BLOCKS = {
    "address",
    "article",
    "blockquote",
    "body",
    "div",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "li",
    "main",
    "ol",
    "p",
    "section",
    "table",
    "tr",
    "ul",
}
_SKIP = {"head", "script", "style", "template", "title"}
_VOID = {"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"}
# Print-only furniture: fold marks and the one-line return address of the window.
_SKIP_CLASSES = {"mark", "return-address"}
# Containers whose lines belong together (no blank line between them).
_COMPACT_CLASSES = {"letterhead", "recipient", "signature", "cosignatories"}
# Inline elements that the letter's stylesheet shows as lines of their own.
_LINE_CLASSES = {"line", "cs-name", "cs-detail"}


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int | None]] = []  # (text, compact container id)
        self.buffer: list[str] = []
        self.prefix = ""
        self.indent: list[int] = []  # hanging indents of open list items
        self.skip_depth = 0
        self.stack: list[tuple[str, int | None, bool]] = []  # tag, compact id, is_line
        self.lists: list[list[int]] = []  # counters of open <ol>/<ul> (-1: bullets)
        self.next_id = 0

    def _compact(self) -> int | None:
        return next((cid for _, cid, _ in reversed(self.stack) if cid is not None), None)

    def flush(self) -> None:
        text = "".join(self.buffer)
        self.buffer = []
        lines = [" ".join(part.split()) for part in text.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return
        indent = " " * max(len(self.prefix), self.indent[-1] if self.indent else 0)
        first = self.prefix or indent
        wrapped = [
            textwrap.fill(
                line,
                WIDTH,
                initial_indent=first if i == 0 else indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            for i, line in enumerate(lines)
        ]
        self.prefix = ""
        self.blocks.append(("\n".join(wrapped), self._compact()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and not self.skip_depth:
                self.buffer.append("\n")
            return
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        hidden = attributes.get("aria-hidden") == "true" or classes & _SKIP_CLASSES
        if self.skip_depth or tag in _SKIP or hidden:
            self.skip_depth += 1
            return
        is_line = bool(classes & _LINE_CLASSES)
        if tag in _BLOCKS or is_line:
            self.flush()
        compact = None
        if tag in ("address", "header") or classes & _COMPACT_CLASSES:
            compact = self.next_id
            self.next_id += 1
        self.stack.append((tag, compact, is_line))
        if tag == "ol":
            self.lists.append([0])
        elif tag == "ul":
            self.lists.append([-1])
        elif tag == "li" and self.lists:
            counter = self.lists[-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.prefix = f"{counter[0]}. "
            else:
                self.prefix = "- "
            self.indent.append(len(self.prefix))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if not self.stack:
            return
        open_tag, _, is_line = self.stack[-1]
        if tag in _BLOCKS or is_line:
            self.flush()
        if open_tag != tag:
            return  # stray end tag: keep the stack as it is
        self.stack.pop()
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        elif tag == "li" and self.indent:
            self.indent.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.buffer.append(data.replace("\u00a0", " "))

    def text(self) -> str:
        self.flush()
        parts: list[str] = []
        previous: int | None = None
        for text, compact in self.blocks:
            if parts:
                together = compact is not None and compact == previous
                parts.append("\n" if together else "\n\n")
            parts.append(text)
            previous = compact
        return "".join(parts) + "\n"


def html_to_text(html: str) -> str:
    """The letter as plain text: paragraphs, numbered demands, address lines."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    return parser.text()
