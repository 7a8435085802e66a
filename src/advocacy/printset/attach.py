"""A relay group's part of the print set, for `send --via groups.csv`.

When `advocacy print --by group --via groups.csv` has written the print set into
the same letters' folder, each group's message carries its combined PDF(s), its
checklist (PDF and CSV) and its envelopes or labels instead of the single
letters, and the cover note ends with how to print (paper, one or both sides)
and how to report back (the checklist CSV, to the organiser).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .words import words_for

INDEX = Path("print") / "print-set.json"


@dataclass(frozen=True)
class GroupKit:
    files: tuple[Path, ...]
    papers: tuple[str, ...]
    duplex: bool
    checklist: str
    language: str

    def note(self, reply: str) -> str:
        """The paragraph that tells the group how to print and report back."""
        _, words = words_for(self.language)
        pdfs = ", ".join(p.name for p in self.files if not p.name.startswith("checklist-"))
        text = words["how_to_print"].format(
            files=pdfs,
            paper=" / ".join(self.papers),
            sides=words["double" if self.duplex else "single"],
            checklist=self.checklist,
            reply=reply,
        )
        # File names never break at their hyphens.
        return "\n" + textwrap.fill(text, 76, break_on_hyphens=False, break_long_words=False) + "\n"


def described(path: Path) -> str:
    """An attachment as the dry run lists it: its name, with pages (a PDF) or size."""
    if path.suffix.lower() == ".pdf":
        import pikepdf

        from .merge import page_count

        try:
            pages = page_count(path)
        except (pikepdf.PdfError, OSError):  # not a PDF we can read: its size, then
            pages = 0
        if pages:
            return f"{path.name} ({pages} page{'s' if pages != 1 else ''})"
    size = path.stat().st_size
    return f"{path.name} ({size} bytes)" if size < 1024 else f"{path.name} ({size / 1024:.0f} KB)"


def group_kit(out: Path, group_key: str) -> GroupKit | None:
    """The group's files in `<out>/print/`, or None when no print set names the group
    (or a file it lists is gone)."""
    try:
        index = json.loads((out / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for batch in index.get("batches", []) if isinstance(index, dict) else []:
        if not isinstance(batch, dict) or batch.get("group") != group_key:
            continue
        files = tuple(out / "print" / str(name) for name in batch.get("files", []))
        if not files or not all(path.is_file() for path in files):
            return None
        return GroupKit(
            files,
            tuple(str(p) for p in batch.get("papers", [])),
            bool(batch.get("duplex")),
            str(batch.get("checklist", "")),
            str(batch.get("language", "en")),
        )
    return None
