"""Every box of fixed size fits, and no text lies on a fold, or the letter fails.

A letter is laid out, its fixed boxes measured (formats/boxes.py), and laid out
again with smaller type where one overflows, step by step down to a floor;
at the floor a box may try the line joins its postal rules allow (an
organisation over two lines, street lines joined by commas). A box that still
does not fit fails the letter with one line naming the field to shorten.
Nothing is clipped or hidden: base.css sets no `overflow: hidden` on them.

A first-page text line that straddles a fold moves just below it: the block
holding it gets that much more space above (a line gap then falls on the
fold). Every first-page line is checked, the running text included.

A line of the running text wider than its block (a word that cannot break:
a long name in the salutation, a URL without break points) fails the letter,
naming the field it came from; nothing runs off the paper unnoticed.

Letters of one language and paper mostly share their running text, so the
moves found for one are tried first on the next with the same flow (`_Memo`).
A guess is kept only when the first page's lines of <main> land exactly where
they did for the letter it was learned from, and nothing crosses a fold: the
moves are then the ones the letter would have found by itself, so a letter
comes out the same alone, in a batch or in a shard, and most take one layout.
The pool's workers share what they learn through a folder of the run
(`_Memo.shared`, a small JSON file per flow): a flow is learned once per run,
not once per worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LayoutError
from . import boxes

MAX_LAYOUTS = 10  # a letter that needs more is failed, not looped on


@dataclass(frozen=True)
class Ladder:
    """How one box may shrink: type sizes (pt; the first is base.css's), tried
    with each variant in turn (extra CSS, and the lines it may use); the first
    variant is the box as base.css sets it."""

    rule: str  # "{}" takes the declarations: ".recipient {{ {} }}"
    sizes: tuple[float, ...]
    variants: tuple[tuple[str, int | None], ...] = (("", None),)
    what: str = ""
    field: str = ""

    def _split(self, step: int) -> tuple[int, int]:
        return divmod(step, len(self.sizes))

    def css(self, step: int) -> str:
        variant, size = self._split(step)
        css = self.rule.format(f"font-size: {self.sizes[size]}pt !important")
        extra = self.variants[variant][0]
        return f"{css}\n{extra}" if extra else css

    def max_lines(self, step: int, default: int | None) -> int | None:
        return self.variants[self._split(step)[0]][1] or default

    def size(self, step: int) -> float:
        return self.sizes[self._split(step)[1]]

    @property
    def steps(self) -> int:
        return len(self.sizes) * len(self.variants)


_WRAP_NAMES = (
    ".recipient .line.organisation, .recipient .line.addressee { white-space: normal !important; }"
)
_JOIN_STREETS = ".recipient .line.street, .recipient .join { display: inline !important; }"
LADDERS = {
    # Postal rules let a long organisation or addressee take two lines, and street
    # lines be joined by commas ("Egmont 1, Rue des Petits Carmes 15").
    "address": Ladder(
        ".recipient {{ {} }}",
        (10, 9.5, 9, 8.5, 8),
        (("", None), (_WRAP_NAMES, None), (_WRAP_NAMES + "\n" + _JOIN_STREETS, None)),
        "the address",
        "address.street_address or organisation",
    ),
    "return-address": Ladder(
        ".return-address {{ {} }}",
        (6, 5.5, 5),
        what="the return-address line",
        field="campaign.toml [sender] organisation, street_address or city",
    ),
    "letterhead": Ladder(
        ".letterhead {{ {} }}",
        (8.5, 8, 7.5, 7),
        what="the letterhead",
        field="campaign.toml [sender] (organisation, email, web: one long word cannot wrap)",
    ),
    "@bottom-left": Ladder(
        "@page {{ @bottom-left {{ {} }} }}",
        (8, 7.5, 7, 6.5),
        (("", None), ("@page { @bottom-left { white-space: normal !important; } }", 2)),
        "the page footer",
        "organisation (the letter's language's form)",
    ),
    "@bottom-right": Ladder(
        "@page {{ @bottom-right {{ {} }} }}",
        (8, 7.5, 7, 6.5),
        what="the page number",
        field='the translation of "Page %(page)s of %(pages)s" in locales/<language>',
    ),
}

Layout = Callable[[str], tuple[Any, Any]]  # html -> (Document, root element)


def _next_step(ladder: Ladder, step: int, ratio: float) -> int:
    """The next step: the largest size of this variant that the measured ratio
    allows, else the next variant from its largest size."""
    variant, size = divmod(step, len(ladder.sizes))
    wanted = ladder.sizes[size] * ratio
    for index in range(size + 1, len(ladder.sizes)):
        if ladder.sizes[index] <= wanted + 1e-6:
            return variant * len(ladder.sizes) + index
    return (variant + 1) * len(ladder.sizes)


def _mm(px: float) -> str:
    return f"{px / boxes.PX_PER_MM:.0f} mm"


def _failure(who: str, ladder: Ladder, extent: boxes.Extent, step: int) -> LayoutError:
    floor = f"{ladder.size(step):g} pt"
    wide = extent.overflowing_lines()
    field = next((line[4] for line in wide if line[4]), "") or ladder.field
    if wide:
        need = f"a line of {_mm(extent.used_width)}, the box holds {_mm(extent.width)}"
    elif extent.too_many_lines:
        need = f"{len(extent.lines)} lines, the box holds {extent.max_lines}"
    else:
        line = extent.used_height / max(1, len(extent.lines))
        holds = int((extent.height + boxes.TOLERANCE) // line) if line else 0
        need = f"{len(extent.lines)} lines, the box holds {holds}"
    return LayoutError(
        f"{who}: {ladder.what} does not fit on paper: it needs {need} at {floor}; shorten {field}"
    )


def _fold_nudge(crossing: boxes.FoldCrossing, root: Any) -> tuple[str, float] | None:
    """The block of the letter's text to move down (its selector) and its new
    padding-top in px; None for the page's furniture (letterhead, address)."""
    elements = [getattr(box, "element", None) for box in crossing.path]
    if not any(e is not None and boxes.tag(e) == "main" for e in elements):
        return None
    for box in reversed(crossing.path[:-1]):
        element = getattr(box, "element", None)
        if element is None or type(box).__name__ in ("LineBox", "InlineBox", "TextBox"):
            continue
        if boxes.tag(element) in ("main", "body", "html", "section"):
            return None
        move = crossing.fold - crossing.top + 1.0
        return boxes.css_path(element, root), box.padding_top + move
    return None


def _worst(measured: boxes.Measure, steps: dict[str, int]) -> dict[str, boxes.Extent]:
    """Per box name, its measure on the page where it fits worst (footers repeat)."""
    worst: dict[str, boxes.Extent] = {}
    for extent in measured.fixed:
        ladder = LADDERS.get(extent.name)
        if ladder is None:
            continue
        extent.max_lines = ladder.max_lines(steps.get(extent.name, 0), extent.max_lines)
        if extent.fits:
            continue
        if extent.name not in worst or extent.ratio < worst[extent.name].ratio:
            worst[extent.name] = extent
    return worst


# The running text's fields, by the class the bundled templates give them.
_TEXT_FIELDS = {
    "salutation": (
        "the salutation (the recipient's salutation.<language>, or its form in protocol.toml)"
    ),
    "subject": "the subject (campaign.toml [campaign] subject)",
    "close": "the closing (its form in protocol.toml)",
    "signer-name": "the signatory (campaign.toml [signature])",
    "signer-role": "the signatory's role (campaign.toml [signature])",
    "signer-org": "the organisation (campaign.toml [sender] or [signature])",
    "cs-name": "a co-signatory's name",
    "cs-detail": "a co-signatory's role or organisation",
}


def _check_overruns(measured: boxes.Measure, who: str) -> None:
    found = measured.overruns
    if not found:
        return
    overrun = max(found, key=lambda o: o.past)
    classes = (c for e in overrun.elements for c in str(e.get("class") or "").split())
    field = next((_TEXT_FIELDS[c] for c in classes if c in _TEXT_FIELDS), "")
    word = max(overrun.text.split() or [""], key=len)
    raise LayoutError(
        f"{who}: {word[:40]!r} cannot break and runs {_mm(overrun.past)} past the edge of "
        f"the text on page {overrun.page}; shorten {field or 'it in the template'}"
    )


def _styled(html: str, steps: dict[str, int], nudges: dict[str, float]) -> str:
    css = [LADDERS[name].css(step) for name, step in steps.items()]
    css += [f"{sel} {{ padding-top: {px:.2f}px !important; }}" for sel, px in nudges.items()]
    if not css:
        return html
    return html.replace("</head>", "<style>\n" + "\n".join(css) + "\n</style>\n</head>", 1)


# What may differ between letters without moving <main>'s first page: the head's
# title and metadata, the later pages' footers, and the short texts of <main>
# (date, reference, salutation), which the fingerprint still checks line by line.
_NOT_FLOW = re.compile(r"<title>.*?</title>|<meta [^>]*>|@bottom-(?:left|right) \{[^}]*\}", re.S)
_SHORT_TEXT = re.compile(r">([^<]{0,80})<")
_MEMO_SIZE = 256  # flows remembered per process: memory stays flat in the letters
_MISSES = 2  # a flow whose guesses failed this often in a row is not guessed again


@dataclass
class _Learned:
    nudges: dict[str, float]
    fingerprint: tuple[tuple[int, float, float], ...]
    misses: int = 0


@dataclass
class _Memo:
    flows: dict[str, _Learned] = field(default_factory=dict)
    shared: Path | None = None  # a folder the pool's workers share for the run

    def _read_shared(self, key: str) -> _Learned | None:
        if self.shared is None:
            return None
        try:
            data = json.loads((self.shared / f"{key}.json").read_bytes())
            fingerprint = tuple((int(i), float(t), float(b)) for i, t, b in data["lines"])
            learned = _Learned({str(k): float(v) for k, v in data["nudges"].items()}, fingerprint)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not learned yet by another worker, or half-written: learn it here
        if len(self.flows) < _MEMO_SIZE:
            self.flows[key] = learned
        return learned

    def _write_shared(self, key: str, learned: _Learned) -> None:
        if self.shared is None:
            return
        data = json.dumps({"nudges": learned.nudges, "lines": learned.fingerprint})
        # Renamed into place: another worker reads it whole or not at all. No fsync: the
        # folder lives as long as the run, and the memo only saves time.
        tmp = self.shared / f"{key}.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.shared / f"{key}.json")

    @staticmethod
    def key(html: str) -> str | None:
        start, end = html.find("<main"), html.rfind("</main>")
        head = html.find("</head>")
        if min(start, end, head) < 0:
            return None
        flow = _NOT_FLOW.sub("", html[:head]) + _SHORT_TEXT.sub("><", html[start:end])
        return hashlib.sha256(flow.encode()).hexdigest()

    def guess(self, key: str | None) -> _Learned | None:
        if key is None:
            return None
        learned = self.flows.get(key) or self._read_shared(key)
        return learned if learned is not None and learned.misses < _MISSES else None

    def learn(
        self, key: str | None, nudges: dict[str, float], measured: boxes.Measure, root: Any
    ) -> None:
        if key is None or not nudges:
            return
        known = self.flows.get(key)
        if known is None and len(self.flows) >= _MEMO_SIZE:
            return
        misses = known.misses if known is not None else 0
        learned = _Learned(dict(nudges), measured.main_lines(root), misses)
        self.flows[key] = learned
        self._write_shared(key, learned)


MEMO = _Memo()


def fit(html: str, layout: Layout, who: str, *, folds: bool = True) -> tuple[Any, str]:
    """Lay `html` out until everything fits; the Document and the HTML it came from.
    `folds=False` for what is not folded (an envelope, a label sheet, a checklist).

    Smaller type in a fixed box (positioned apart from the text) and a move off a
    fold (in the text) do not disturb each other: one layout serves both."""
    steps: dict[str, int] = {}
    key = MEMO.key(html) if folds else None
    guess = MEMO.guess(key)
    nudges: dict[str, float] = dict(guess.nudges) if guess is not None else {}
    for _ in range(MAX_LAYOUTS):
        styled = _styled(html, steps, nudges)
        document, root = layout(styled)
        measured = boxes.measure(document)
        crossings = measured.crossings if folds else []
        if guess is not None:
            if crossings or measured.main_lines(root) != guess.fingerprint:
                guess.misses += 1
                guess, nudges = None, {}
                continue  # the letter finds its own moves from the start
            guess.misses, guess, key = 0, None, None  # key None: nothing new to learn
        worst = _worst(measured, steps)
        for name, extent in worst.items():
            ladder, step = LADDERS[name], steps.get(name, 0)
            following = _next_step(ladder, step, extent.ratio)
            if following >= ladder.steps:
                raise _failure(who, ladder, extent, step)
            steps[name] = following
        if crossings:
            nudge = _fold_nudge(crossings[0], root)
            if nudge is not None:
                nudges[nudge[0]] = nudge[1]
            elif not worst:  # an overflowing box may be what reaches the fold
                raise LayoutError(
                    f"{who}: {crossings[0].text[:40]!r} lies on the fold at "
                    f"{_mm(crossings[0].fold)}; move it in the template or stylesheet"
                )
        if not worst and not crossings:
            _check_overruns(measured, who)
            MEMO.learn(key, nudges, measured, root)
            return document, styled
    raise LayoutError(f"{who}: the layout did not settle after {MAX_LAYOUTS} attempts")
