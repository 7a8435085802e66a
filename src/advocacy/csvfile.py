"""CSV as spreadsheets save it: a BOM, `,` `;` or tab between cells, CRLF."""

from __future__ import annotations

import csv
import io


def dict_reader(text: str) -> csv.DictReader[str]:
    """Rows of `text` (already decoded) as dicts, the delimiter sniffed."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
        # The sniffer says "no doubled quotes" when its sample has none; every
        # spreadsheet writes a quote inside a quoted cell doubled ("Jesús G. ""Chuy"" García").
        dialect.doublequote = True
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
