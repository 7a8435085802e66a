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


def fixed_boxes(document: Any) -> Iterator[Extent]:
    """Every box of fixed size on every page, with the text inside it."""
    for page in document.pages:
        seen: set[int] = set()
        for box, path in _walk(page._page_box):
            keyword = getattr(box, "at_keyword", None)
            if type(box).__name__ == "MarginBox":
                if _children(box):
                    yield _extent(str(keyword), box, 1)
                continue
            element = _element(box)
            if element is None or not element.get("data-fit") or id(element) in seen:
                continue
            if any(_element(b) is element for b in path):
                continue
            seen.add(id(element))
            limit = element.get("data-max-lines")
            yield _extent(str(element.get("data-fit")), box, int(limit) if limit else None)


def _first_page_lines(
    document: Any,
) -> Iterator[tuple[Any, tuple[Any, ...], list[Any], float, float]]:
    """The first page's text lines outside its margin boxes: the line, its path,
    its text boxes, and the top and bottom of its text."""
    for box, path in _walk(document.pages[0]._page_box):
        if type(box).__name__ != "LineBox" or any(type(b).__name__ == "MarginBox" for b in path):
            continue
        texts = list(_texts(box))
        if texts:
            top = min(t.position_y for t in texts)
            yield box, path, texts, top, max(t.position_y + t.height for t in texts)


def fold_crossings(document: Any) -> list[FoldCrossing]:
    """Text lines of the first page that straddle a fold line."""
    folds = FOLDS[paper_of(document.pages[0]._page_box.margin_height())]
    found = []
    for box, path, texts, top, bottom in _first_page_lines(document):
        for fold in folds:
            if top < fold - TOLERANCE and bottom > fold + TOLERANCE:
                words = " ".join(t.text.strip() for t in texts)
                found.append(FoldCrossing(fold, top, bottom, words, [*path, box]))
    return found


@dataclass(frozen=True)
class Overrun:
    """A text line that runs past its block's edge: a word that cannot break."""

    page: int
    past: float  # px beyond the edge
    text: str
    element: Any  # the element of the widest text box


def overruns(document: Any) -> list[Overrun]:
    """Lines of the running text, on every page, wider than the block that holds
    them (boxes of fixed size and margin boxes are measured by fixed_boxes)."""
    found = []
    for number, page in enumerate(document.pages, 1):
        for box, path in _walk(page._page_box):
            if type(box).__name__ != "LineBox" or not path:
                continue
            if any(type(b).__name__ == "MarginBox" for b in path):
                continue
            if any((e := _element(b)) is not None and e.get("data-fit") for b in path):
                continue
            block, texts = path[-1], list(_texts(box))
            left, right = block.content_box_x(), block.content_box_x() + block.width
            for text in texts:
                past = max(left - text.position_x, text.position_x + text.width - right)
                if past > TOLERANCE and not str(getattr(text, "element_tag", "")).endswith(
                    "::marker"
                ):
                    words = " ".join(t.text.strip() for t in texts)
                    found.append(Overrun(number, past, words, _element(text)))
                    break
    return found


def main_lines(document: Any, root: Any) -> tuple[tuple[int, float, float], ...]:
    """Where the first page's text lines of <main> lie: per line, its element's
    place in the document and its top and bottom (fit.py compares letters by it)."""
    order = {id(element): index for index, element in enumerate(root.iter())}
    found = []
    for _, path, _, top, bottom in _first_page_lines(document):
        elements = [e for b in path if (e := _element(b)) is not None]
        if any(tag(e) == "main" for e in elements):
            found.append((order.get(id(elements[-1]), -1), top, bottom))
    return tuple(found)


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
