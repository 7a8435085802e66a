"""The print set's own pages as HTML: envelopes, label sheets, cover and checklist.

Envelopes and labels print the address block the letter prints
(letter/address.py), in the same `<address class="recipient" data-fit="address">`
markup, so formats/fit.py shrinks and joins its lines by the same rules and
fails the same way when it cannot fit. Positions in mm from the sheet's top-left.

- Envelopes (no window): the return address top left; the address in the zone
  the postal services read, right of the middle, clear of the franking area in
  the top right and 15 mm (No. 10: 5/8 in) above the bottom edge and from the
  right edge (Deutsche Post "Briefe national", USPS DMM 202 OCR read area).
- Labels: L7163 is 2 x 7 labels of 99.1 x 38.1 mm on A4 (top 15.15 mm, left
  4.65 mm, pitch 101.6 x 38.1 mm); Avery 5160 is 3 x 10 of 2 5/8 x 1 in on
  Letter (top 0.5 in, left 3/16 in, pitch 2 3/4 x 1 in). Each label keeps
  3 mm clear inside its edges. A 5160 label is one inch tall: it keeps 1.5 mm
  and sets the address at 0.8 of the letter's type (8 pt, as small as 6.4 pt),
  so that six lines fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..letter.address import AddressLine

IN = 25.4


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    def css(self) -> str:
        return (
            f"left: {self.left:.2f}mm; top: {self.top:.2f}mm; "
            f"width: {self.width:.2f}mm; height: {self.height:.2f}mm;"
        )


@dataclass(frozen=True)
class Envelope:
    name: str
    width: float
    height: float
    zone: Box  # where the recipient's address goes
    sender: Box  # the return address


ENVELOPES = {
    "dl": Envelope("DL", 220, 110, Box(100, 50, 105, 45), Box(10, 10, 80, 30)),
    "c5": Envelope("C5", 229, 162, Box(110, 72, 104, 75), Box(10, 10, 80, 30)),
    "c4": Envelope("C4", 324, 229, Box(160, 110, 149, 104), Box(10, 10, 80, 30)),
    "no10": Envelope(
        "No. 10",
        9.5 * IN,
        4.125 * IN,
        Box(3.75 * IN, 1.75 * IN, 5.25 * IN, 1.75 * IN),
        Box(0.25 * IN, 0.25 * IN, 3.25 * IN, 1.25 * IN),
    ),
}


@dataclass(frozen=True)
class LabelSheet:
    name: str
    paper: str  # CSS page size
    page_width: float
    page_height: float
    columns: int
    rows: int
    width: float
    height: float
    top: float
    left: float
    pitch_x: float
    pitch_y: float
    inset: float  # clear space inside each edge
    scale: float = 1.0  # of the letter's address type (fit.py's ladder shrinks from there)

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def cell(self, index: int) -> Box:
        """The label at `index` on its sheet (row by row, from the top left)."""
        row, column = divmod(index % self.per_sheet, self.columns)
        return Box(
            self.left + column * self.pitch_x,
            self.top + row * self.pitch_y,
            self.width,
            self.height,
        )


LABELS = {
    "l7163": LabelSheet("L7163", "A4", 210, 297, 2, 7, 99.1, 38.1, 15.15, 4.65, 101.6, 38.1, 3.0),
    "5160": LabelSheet(
        "5160",
        "letter",
        8.5 * IN,
        11 * IN,
        3,
        10,
        2.625 * IN,
        IN,
        0.5 * IN,
        0.1875 * IN,
        2.75 * IN,
        IN,
        1.5,
        0.8,
    ),
}

_PAGE = "@page {{ size: {size}; margin: {margin}; @bottom-right {{ content: none; }} }}"
_ADDRESS_CSS = """
.recipient { position: absolute; margin: 0 !important; line-height: 1.2; }
.return { position: absolute; font-size: 8pt; line-height: 1.25; margin: 0; }
.return span { display: block; }
"""


def _document(language: str, title: str, css: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{css}</style></head><body>{body}</body></html>"
    )


def address_html(lines: Sequence[AddressLine], box: Box, max_lines: int | None = None) -> str:
    """The letter's address markup (base.html.j2) in an absolutely placed box."""
    parts = []
    previous = ""
    for line in lines:
        if line.kind == "street" and previous == "street":
            parts.append('<span class="join">, </span>')
        parts.append(
            f'<span class="line {escape(line.kind)}" data-field="{escape(line.field)}">'
            f"{escape(line.text)}</span>"
        )
        previous = line.kind
    limit = f' data-max-lines="{max_lines}"' if max_lines else ""
    return (
        f'<address class="recipient" data-fit="address"{limit} style="{box.css()}">'
        + "".join(parts)
        + "</address>"
    )


def envelope_page(
    envelope: Envelope, lines: Sequence[AddressLine], sender: Sequence[str], language: str
) -> str:
    """One envelope: a page of its own, in the letter's language."""
    back = "".join(f"<span>{escape(s)}</span>" for s in sender)
    return (
        f'<section class="envelope" lang="{escape(language)}">'
        f'<p class="return" style="{envelope.sender.css()}">{back}</p>'
        + address_html(lines, envelope.zone)
        + "</section>"
    )


def envelopes_html(envelope: Envelope, pages: Sequence[str], title: str) -> str:
    size = f"{envelope.width:.2f}mm {envelope.height:.2f}mm"
    css = (
        _PAGE.format(size=size, margin="0")
        + _ADDRESS_CSS
        + (
            f".envelope {{ position: relative; height: {envelope.height - 0.5:.2f}mm; "
            "break-after: page; } .envelope:last-child { break-after: auto; }"
        )
    )
    return _document("en", title, css, "".join(pages))


def labels_html(
    sheet: LabelSheet,
    addresses: Sequence[Sequence[AddressLine]],
    skip: int,
    title: str,
    language: str = "en",
) -> str:
    """Every address on a label, starting at label `skip + 1` of the first sheet."""
    css = (
        _PAGE.format(size=sheet.paper, margin="0")
        + _ADDRESS_CSS
        + (
            f".sheet {{ position: relative; width: {sheet.page_width}mm; "
            f"height: {sheet.page_height - 0.5}mm; break-after: page; }}"
            ".sheet:last-child { break-after: auto; } .recipient { line-height: 1.15; }"
            f".recipient .line, .recipient .join {{ font-size: {sheet.scale}em; }}"
        )
    )
    pages: list[list[str]] = []
    for number, lines in enumerate(addresses, start=skip):
        if number % sheet.per_sheet == 0 or not pages:
            pages.append([])
        cell = sheet.cell(number)
        inner = Box(
            cell.left + sheet.inset,
            cell.top + sheet.inset,
            cell.width - 2 * sheet.inset,
            cell.height - 2 * sheet.inset,
        )
        pages[-1].append(address_html(lines, inner))
    body = "".join(f'<div class="sheet">{"".join(cells)}</div>' for cells in pages)
    return _document(language, title, css, body)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str]) -> str:
    head = "".join(
        f'<th scope="col" class="{c}">{escape(h)}</th>'
        for h, c in zip(headers, classes, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{c}">{cell}</td>' for cell, c in zip(row, classes, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_SHEET_CSS = """
body { font-size: 9pt; }
h1 { font-size: 14pt; margin: 0 0 4mm; }
/* Fixed column widths: WeasyPrint lays a long table out twice as fast so. */
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 0.5pt solid #444; padding: 1.5mm; vertical-align: top; text-align: left; }
tr { break-inside: avoid; }
td.stamp, td.by, td.date { height: 22mm; }
td.reference { overflow-wrap: anywhere; }
/* 162 mm of text and 18 mm of padding: the 180 mm between A4's margins. */
th.name { width: 32mm; } th.address { width: 36mm; } th.reference { width: 26mm; }
th.by { width: 24mm; } th.date { width: 20mm; } th.stamp { width: 24mm; }
/* A header longer than its column (Finnish, Greek...) breaks rather than run into
   the next column. */
th { font-size: 8pt; overflow-wrap: anywhere; }
/* base.css sets the letter's .reference and .date line: right-aligned, unbroken. */
table .reference, table .date { white-space: normal; text-align: left; margin: 0; }
dl { display: grid; grid-template-columns: 65mm auto; margin: 0 0 5mm; }
dt { font-weight: bold; } dd { margin: 0 0 1.5mm; }
"""


def checklist_html(
    words: dict[str, str],
    language: str,
    title: str,
    paper: str,
    rows: Sequence[tuple[str, str, Sequence[str], str]],
) -> str:
    """rows: (recipient name, id, address lines, reference)."""
    css = _PAGE.format(size=paper, margin="15mm") + _SHEET_CSS
    cells = [
        (
            f"{escape(name)}<br><small>{escape(rid)}</small>",
            "<br>".join(escape(line) for line in lines),
            escape(reference),
            "",
            "",
            "",
        )
        for name, rid, lines, reference in rows
    ]
    headers = [
        words[k] for k in ("recipient", "address", "reference", "delivered_by", "date", "stamp")
    ]
    table = _table(headers, cells, ("name", "address", "reference", "by", "date", "stamp"))
    body = f"<h1>{escape(title)}</h1><p>{escape(words['report'])}</p>{table}"
    return _document(language, title, css, body)


def cover_html(
    words: dict[str, str],
    language: str,
    title: str,
    paper: str,
    facts: Sequence[tuple[str, str]],
    left_out: Sequence[tuple[str, str]],
) -> str:
    css = _PAGE.format(size=paper, margin="20mm") + _SHEET_CSS
    listed = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    missing = (
        "<ul>"
        + "".join(f"<li>{escape(rid)}: {escape(why)}</li>" for rid, why in left_out)
        + "</ul>"
        if left_out
        else f"<p>{escape(words['none'])}</p>"
    )
    body = f"<h1>{escape(title)}</h1><dl>{listed}</dl><h2>{escape(words['left_out'])}</h2>{missing}"
    return _document(language, title, css, body)
