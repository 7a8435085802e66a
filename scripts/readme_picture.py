"""Regenerate the README's pictures of rendered letters from real PDFs.

Run after a layout change: .venv/bin/python scripts/readme_picture.py
Renders two letters of the bundled campaign (A4 in German, US Letter in
English) with a fixed date and turns their first pages into PNG files in
docs/ with pypdfium2 (installed with the test extras).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

from advocacy.campaign.discovery import open_campaign
from advocacy.paths import bundled_campaign_dir
from advocacy.render.batch import RenderOptions, render

DOCS = Path(__file__).resolve().parent.parent / "docs"
LETTERS = {"de-mfa": "letter-a4-de.png", "us-dos": "letter-us-en.png"}


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        summary = render(
            open_campaign(bundled_campaign_dir()),
            RenderOptions(
                out=Path(tmp),
                selectors=list(LETTERS),
                today=dt.date(2026, 12, 10),
                force=True,
            ),
        )
        for letter in summary.letters:
            pdf = pdfium.PdfDocument(Path(tmp) / letter.files[0].path)
            image = pdf[0].render(scale=80 / 72).to_pil()
            target = DOCS / LETTERS[letter.recipient]
            image.save(target, optimize=True)
            print(f"wrote {target.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
