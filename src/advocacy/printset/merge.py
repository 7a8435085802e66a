"""Tagged PDFs joined into one with pikepdf, each keeping its structure tree.

WeasyPrint writes each letter as a tagged PDF (pdf/ua-1): a StructTreeRoot
whose /Document element holds the letter's structure, a ParentTree mapping each
page's /StructParents key to the elements its marked content belongs to, and
the letter's language in the catalog's /Lang. Joining files page by page would
drop all of that. Here each part's pages are copied, then its structure tree
(which points at those pages, so qpdf maps the pointers to the copies): the
part's /Document element becomes a /Part under one new /Document, carrying the
part's /Lang and title, and its ParentTree keys move up by the keys used before.
A screen reader thus reads every letter, in its own language, in order.

A blank back page (duplex) is an empty page: no content, nothing to tag.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name


@dataclass(frozen=True)
class Part:
    """One document to put into the combined file."""

    pdf: bytes | Path
    title: str  # the outline entry and the /Part's /T
    blank_after: bool = False  # a blank back page after it (duplex, odd page count)


def page_count(pdf: bytes | Path) -> int:
    with _open(pdf) as doc:
        return len(doc.pages)


def _open(pdf: bytes | Path) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)


def _nums(tree: Any) -> Iterator[tuple[int, Any]]:
    """The (key, value) pairs of a number tree, flat or with /Kids."""
    if "/Nums" in tree:
        values = list(tree.Nums)
        for index in range(0, len(values) - 1, 2):
            yield int(values[index]), values[index + 1]
    for kid in tree.get("/Kids", []):
        yield from _nums(kid)


def _kids(element: Any) -> list[Any]:
    k = element.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, Array) else [k]


def _shift_keys(pdf: pikepdf.Pdf, pages: Sequence[pikepdf.Page], offset: int) -> None:
    for page in pages:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + offset
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + offset


def _scope(element: Any) -> None:
    """WeasyPrint 70 writes `<th scope="col">` as a /TH without /Scope; PDF/UA wants the
    header-cell association, so every /TH gets column scope (the sheets' tables
    have their headers in one top row)."""
    if not isinstance(element, Dictionary):
        return
    if element.get("/S") == Name.TH:
        attributes = element.get("/A")
        if not isinstance(attributes, Dictionary):  # none, or an array of several
            attributes = element.A = Dictionary(O=Name.Table)
        attributes.O = Name.Table
        if "/Scope" not in attributes:
            attributes.Scope = Name.Column
    for kid in _kids(element):
        _scope(kid)


class Combiner:
    """Collects parts, then writes one tagged PDF in `language`."""

    def __init__(self, title: str, language: str, *, table_headers: bool = False) -> None:
        self.pdf = pikepdf.new()
        self.table_headers = table_headers  # give every /TH a /Scope (see _scope)
        self.title, self.language = title, language
        self.document = self.pdf.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, K=Array())
        )
        self.nums: list[Any] = []
        self.next_key = 0
        self.role_map = Dictionary()
        self.starts: list[tuple[str, int]] = []  # outline: title, first page index
        self._sources: list[pikepdf.Pdf] = []  # kept open until written

    def add(self, part: Part) -> None:
        source = _open(part.pdf)
        self._sources.append(source)
        first = len(self.pdf.pages)
        for page in source.pages:
            self.pdf.pages.append(page)
        copied = list(self.pdf.pages)[first:]
        self.starts.append((part.title, first))
        root = source.Root.get("/StructTreeRoot")
        if root is not None:
            self._graft(source, root, copied, part.title)
        if part.blank_after:
            self.add_blank()

    def _graft(
        self, source: pikepdf.Pdf, root: Any, copied: list[pikepdf.Page], title: str
    ) -> None:
        tree = self.pdf.copy_foreign(root)
        offset = self.next_key
        used = -1
        parent_tree = tree.get("/ParentTree")
        if parent_tree is not None:
            for key, value in _nums(parent_tree):
                self.nums += [key + offset, value]
                used = max(used, key)
        _shift_keys(self.pdf, copied, offset)
        for page in copied:
            used = max(used, int(page.obj.get("/StructParents", offset - 1)) - offset)
        self.next_key = offset + used + 1
        for name, value in tree.get("/RoleMap", Dictionary()).items():
            self.role_map[name] = value
        language = str(source.Root.get("/Lang", "")) or self.language
        for element in _kids(tree):
            if element.get("/S") == Name.Document:
                element.S = Name.Part  # one /Document per file: the letter is a part of it
            element.P = self.document
            element.Lang = pikepdf.String(language)
            element.T = pikepdf.String(title)
            self.document.K.append(element)
            if self.table_headers:
                _scope(element)

    def add_blank(self) -> None:
        last = self.pdf.pages[-1]
        box = last.obj.get("/MediaBox", Array([0, 0, 595.28, 841.89]))
        blank = Dictionary(Type=Name.Page, MediaBox=Array(list(box)), Resources=Dictionary())
        self.pdf.pages.append(pikepdf.Page(blank))

    def write(self, path: Path | None = None) -> bytes:
        pdf = self.pdf
        root = Dictionary(
            Type=Name.StructTreeRoot,
            K=Array([self.document]),
            ParentTree=pdf.make_indirect(Dictionary(Nums=Array(self.nums))),
            ParentTreeNextKey=self.next_key,
        )
        if self.role_map.keys():
            root.RoleMap = self.role_map
        self.document.P = pdf.make_indirect(root)
        pdf.Root.StructTreeRoot = self.document.P
        pdf.Root.MarkInfo = Dictionary(Marked=True)
        pdf.Root.Lang = pikepdf.String(self.language)
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        for page in pdf.pages:
            page.obj.Tabs = Name.S
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = self.title
            meta["pdfuaid:part"] = "1"
        pdf.docinfo["/Title"] = pikepdf.String(self.title)
        with pdf.open_outline() as outline:
            for title, index in self.starts:
                outline.root.append(pikepdf.OutlineItem(title, index))
        buffer = io.BytesIO()
        pdf.save(
            buffer, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate
        )
        for source in self._sources:
            source.close()
        data = buffer.getvalue()
        if path is not None:
            from ..fsutil import write_atomic

            write_atomic(path, data)
        return data
