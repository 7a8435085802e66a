"""What WeasyPrint laid out, measured: the boxes of fixed size on paper and the
text lines of the first page, read from a rendered Document's box tree.

Units are CSS px (WeasyPrint's own: 96 per inch), from the page's top-left.
Boxes of fixed size are marked in the template with `data-fit="<name>"` (the
address, the return-address line, the letterhead); the page footers are
margin boxes, named by their at-rule (`@bottom-left`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PX_PER_MM = 96 / 25.4
TOLERANCE = 0.5  # px: rounding in the layout, far below what paper shows

# Fold lines from the top of the page, in px: A4 in thirds of 297 mm (DIN 676),
# Letter in thirds of 11 in for a No. 10 envelope.
FOLDS = {"A4": (105 * PX_PER_MM, 210 * PX_PER_MM), "Letter": (11 / 3 * 96, 22 / 3 * 96)}


def paper_of(page_height: float) -> str:
    return "Letter" if abs(page_height - 11 * 96) < 2 else "A4"


@dataclass
class Extent:
    """Where the text inside one box lies, against the box's own content area."""

    name: str
    left: float
    top: float
    width: float
    height: float
    lines: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    # (left, right, top, bottom, data-field of the line's element)
    max_lines: int | None = None

    @property
    def used_width(self) -> float:
        return max((r - le for le, r, _, _, _ in self.lines), default=0.0)

    @property
    def used_height(self) -> float:
        return max((b for _, _, _, b, _ in self.lines), default=self.top) - self.top

    def overflowing_lines(self) -> list[tuple[float, float, float, float, str]]:
        right = self.left + self.width + TOLERANCE
        return [line for line in self.lines if line[0] < self.left - TOLERANCE or line[1] > right]

    @property
    def too_tall(self) -> bool:
        return self.used_height > self.height + TOLERANCE

    @property
    def too_many_lines(self) -> bool:
        return self.max_lines is not None and len(self.lines) > self.max_lines

    @property
    def fits(self) -> bool:
        return not (self.overflowing_lines() or self.too_tall or self.too_many_lines)

    @property
    def ratio(self) -> float:
        """By how much the type must shrink to fit (1.0: it fits)."""
        ratios = [1.0]
        if self.used_width > self.width:
            ratios.append(self.width / self.used_width)
        if self.too_tall:
            ratios.append(self.height / self.used_height)
        if self.too_many_lines and self.max_lines:
            ratios.append(self.max_lines / len(self.lines))
        return min(ratios)


@dataclass(frozen=True)
class FoldCrossing:
    fold: float  # px from the top
    top: float
    bottom: float
    text: str
    path: list[Any]  # the line's boxes, outermost first


def _children(box: Any) -> list[Any]:
    return list(getattr(box, "children", None) or [])


def _walk(box: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield box, path
    for child in _children(box):
        yield from _walk(child, (*path, box))


def _texts(box: Any) -> Iterator[Any]:
    for child, _ in _walk(box):
        if type(child).__name__ == "TextBox" and child.text.strip():
            yield child


def _element(box: Any) -> Any:
    element = getattr(box, "element", None)
    return element if element is not None and hasattr(element, "get") else None


def _line_field(line: Any) -> str:
    for text in _texts(line):
        element = _element(text)
        if element is not None and element.get("data-field"):
            return str(element.get("data-field"))
    return ""


def _extent(name: str, box: Any, max_lines: int | None) -> Extent:
    extent = Extent(
        name, box.content_box_x(), box.content_box_y(), box.width, box.height, [], max_lines
    )
    for child, _ in _walk(box):
        if type(child).__name__ != "LineBox":
            continue
        texts = list(_texts(child))
        if texts:
            extent.lines.append(
                (
                    min(t.position_x for t in texts),
                    max(t.position_x + t.width for t in texts),
                    min(t.position_y for t in texts),
                    max(t.position_y + t.height for t in texts),
                    _line_field(child),
                )
            )
    return extent


@dataclass(frozen=True)
class Overrun:
    """A text line that runs past its block's edge: a word that cannot break."""

    page: int
    past: float  # px beyond the edge
    text: str
    # The element of the text box that runs past, then its ancestors, innermost
    # first (the document's elements do not know their parents).
    elements: tuple[Any, ...]


@dataclass
class Measure:
    """One walk over a laid-out document: what fit.py checks after each layout."""

    fixed: list[Extent] = field(default_factory=list)  # boxes of fixed size, every page
    crossings: list[FoldCrossing] = field(default_factory=list)  # first-page lines on a fold
    overruns: list[Overrun] = field(default_factory=list)  # running-text lines too wide
    # The first page's running-text lines: the line's path (itself last), top, bottom.
    first_lines: list[tuple[tuple[Any, ...], float, float]] = field(default_factory=list)

    def main_lines(self, root: Any) -> tuple[tuple[int, float, float], ...]:
        """Where the first page's lines of <main> lie: per line, its element's place in
        the document, and its top and bottom (fit.py compares letters by it)."""
        order = {id(element): index for index, element in enumerate(root.iter())}
        found = []
        for path, top, bottom in self.first_lines:
            elements = [e for b in path if (e := _element(b)) is not None]
            if any(tag(e) == "main" for e in elements):
                found.append((order.get(id(elements[-1]), -1), top, bottom))
        return tuple(found)


def _overrun(number: int, path: tuple[Any, ...], texts: list[Any]) -> Overrun | None:
    """`path`: the line's boxes, outermost first, the line last."""
    block = path[-2]
    left = block.content_box_x()
    right = left + block.width
    for text in texts:
        past = max(left - text.position_x, text.position_x + text.width - right)
        if past > TOLERANCE and not str(getattr(text, "element_tag", "")).endswith("::marker"):
            words = " ".join(t.text.strip() for t in texts)
            chain = [_element(text), *(_element(b) for b in reversed(path))]
            elements = tuple(dict.fromkeys(e for e in chain if e is not None))
            return Overrun(number, past, words, elements)
    return None


def measure(document: Any) -> Measure:
    """Every box of fixed size on every page with the text inside it; the first
    page's lines and those on a fold; running-text lines wider than their block.
    One walk per page: fit.py measures every layout of every letter."""
    found = Measure()
    folds = FOLDS[paper_of(document.pages[0]._page_box.margin_height())]
    for number, page in enumerate(document.pages, 1):
        seen: set[int] = set()
        for box, path in _walk(page._page_box):
            kind = type(box).__name__
            if kind == "MarginBox":
                if _children(box):
                    found.fixed.append(_extent(str(box.at_keyword), box, 1))
                continue
            element = _element(box)
            if (
                element is not None
                and element.get("data-fit")
                and id(element) not in seen
                and not any(_element(b) is element for b in path)  # its first box only
            ):
                seen.add(id(element))
                limit = element.get("data-max-lines")
                name = str(element.get("data-fit"))
                found.fixed.append(_extent(name, box, int(limit) if limit else None))
            if kind != "LineBox" or not path:
                continue
            if any(type(b).__name__ == "MarginBox" for b in path):
                continue
            texts = list(_texts(box))
            if texts:
                _line(found, number, folds, (*path, box), texts)
    return found


def _line(found: Measure, number: int, folds: tuple[float, ...], path: tuple[Any, ...],
          texts: list[Any]) -> None:  # fmt: skip
    if number == 1:
        top = min(t.position_y for t in texts)
        bottom = max(t.position_y + t.height for t in texts)
        found.first_lines.append((path, top, bottom))
        for fold in folds:
            if top < fold - TOLERANCE and bottom > fold + TOLERANCE:
                words = " ".join(t.text.strip() for t in texts)
                found.crossings.append(FoldCrossing(fold, top, bottom, words, list(path)))
    if not any((e := _element(b)) is not None and e.get("data-fit") for b in path):
        overrun = _overrun(number, path, texts)
        if overrun is not None:
            found.overruns.append(overrun)


def fixed_boxes(document: Any) -> Iterator[Extent]:
    """Every box of fixed size on every page, with the text inside it."""
    yield from measure(document).fixed


def tag(element: Any) -> str:
    """An element's name without its namespace."""
    return str(element.tag).rsplit("}", 1)[-1]


def css_path(element: Any, root: Any) -> str:
    """A selector for exactly this element: `body > main:nth-child(5) > p:nth-child(3)`."""
    parents = {id(child): parent for parent in root.iter() for child in parent}
    steps = []
    while id(element) in parents:
        parent = parents[id(element)]
        siblings = [c for c in parent if isinstance(c.tag, str)]
        steps.append(f"{tag(element)}:nth-child({siblings.index(element) + 1})")
        element = parent
    return "html > " + " > ".join(reversed(steps))
