"""Print-set benchmark: `advocacy print` on top of the render it needs.

Run: .venv/bin/python benchmarks/print_bench.py [--n 300] [--alt 60] [--jobs 2]

Makes the synthetic campaign of scale_bench.py (N recipients over 12 languages,
A4 and Letter), then prints:
1. seconds to render the N letters (`render`, PDF and HTML);
2. seconds to build the print set from them (`--by country --duplex`: cover,
   combined PDFs, checklists), its ratio to the render, and the same with DL
   envelopes and L7163 labels;
3. the two ways of combining, per letter, on `--alt` letters: joining the
   rendered PDFs with pikepdf (printset/merge.py, what `print` does) against
   laying the letters out again with WeasyPrint and writing them as one
   document (`Document.copy` of all pages).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_bench import make_campaign

from advocacy.campaign.discovery import open_campaign
from advocacy.formats.pdf import PdfRenderer
from advocacy.printset.build import PrintOptions, build_print_set
from advocacy.printset.merge import Combiner, Part
from advocacy.render.batch import RenderOptions, render
from advocacy.render.manifest import load


def _timed(function: object, *args: object) -> float:
    started = time.perf_counter()
    function(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def combine_pikepdf(pdfs: list[Path]) -> None:
    combined = Combiner("bench", "en")
    for pdf in pdfs:
        combined.add(Part(pdf, pdf.name))
    combined.write()


def combine_weasyprint(renderer: PdfRenderer, htmls: list[Path]) -> None:
    documents = [renderer._layout(html.read_text(encoding="utf-8"))[0] for html in htmls]
    pages = [page for document in documents for page in document.pages]
    documents[0].copy(pages).write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--alt", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="print-bench-") as tmp:
        root = Path(tmp) / "campaign"
        root.mkdir()
        make_campaign(root, args.n)
        campaign = open_campaign(root)
        out = Path(tmp) / "letters"
        options = RenderOptions(out=out, formats=["pdf", "html"], jobs=args.jobs)
        seconds = _timed(render, campaign, options)
        print(f"render {args.n} letters: {seconds:.1f} s")
        plain = PrintOptions(out=out, by="country", duplex=True, jobs=args.jobs)
        printing = _timed(build_print_set, campaign, plain)
        print(
            f"print set (--by country --duplex): {printing:.1f} s = "
            f"{printing / seconds:.0%} on top of the render"
        )
        full = PrintOptions(
            out=out, by="country", duplex=True, envelope="dl", labels="l7163", jobs=args.jobs
        )
        everything = _timed(build_print_set, campaign, full)
        print(
            f"... with DL envelopes and L7163 labels: {everything:.1f} s = "
            f"{everything / seconds:.0%} on top of the render"
        )
        letters = load(out).letters[: args.alt]
        pdfs = [out / f.path for letter in letters if (f := letter.file(".pdf"))]
        htmls = [out / f.path for letter in letters if (f := letter.file(".html"))]
        joined = _timed(combine_pikepdf, pdfs)
        renderer = PdfRenderer(campaign.root, campaign.templates_dir / "letter.css", "pdf/ua-1")
        again = _timed(combine_weasyprint, renderer, htmls)
        print(
            f"combining {len(pdfs)} letters: pikepdf merge {joined / len(pdfs) * 1000:.0f} ms "
            f"per letter, WeasyPrint one document {again / len(htmls) * 1000:.0f} ms per letter "
            f"({again / joined:.1f}x)"
        )


if __name__ == "__main__":
    main()
