"""Render benchmark: the bundled campaign, PDF sizes, pdf/ua-1's cost, languages, start-up.

Run: .venv/bin/python benchmarks/render_bench.py [--repeat 3]

Prints figures and ratios against baselines measured in the same run, so the
numbers compare across machines: pdf/ua-1 against untagged PDF, letters in
each recipient's language against English-only letters (`--lang en`), and
`advocacy --help` against a bare `python -c pass`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from advocacy.campaign.discovery import open_campaign
from advocacy.paths import bundled_campaign_dir
from advocacy.render.batch import RenderOptions, render


def _startup(args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _render(variant: str, out: Path, language: str | None = None) -> tuple[float, int, list[int]]:
    summary = render(
        open_campaign(bundled_campaign_dir()),
        RenderOptions(
            out=out,
            pdf_variant=variant,
            force=True,
            language=language,
        ),
    )
    sizes = [f.size for letter in summary.letters for f in letter.files]
    return summary.seconds, len(summary.letters), sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    python = _startup([sys.executable, "-c", "pass"], args.repeat)
    help_time = _startup([sys.executable, "-m", "advocacy", "--help"], args.repeat)
    print(
        f"startup: python -c pass {python:.3f} s; advocacy --help {help_time:.3f} s "
        f"(ratio {help_time / python:.1f}x)"
    )

    # The terminal preview of one letter after start-up: load, compose, HTML -> text.
    from advocacy.paths import bundled_campaign_dir
    from advocacy.preview.terminal import preview_letter

    previews = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        preview_letter(open_campaign(bundled_campaign_dir()), ["de-mfa"])
        previews.append(time.perf_counter() - started)
    print(f"terminal preview of de-mfa: {min(previews):.3f} s (best of {args.repeat})")

    with tempfile.TemporaryDirectory() as tmp:
        # The first run pays the WeasyPrint import and font set-up; then alternate.
        _render("none", Path(tmp) / "warmup")
        results: dict[str, list[float]] = {"pdf/ua-1": [], "none": []}
        sizes: dict[str, list[int]] = {}
        english: list[float] = []
        count = 0
        for i in range(args.repeat):
            for variant in results:
                seconds, count, sizes[variant] = _render(variant, Path(tmp) / f"{i}-{variant[-4:]}")
                results[variant].append(seconds)
            english.append(_render("pdf/ua-1", Path(tmp) / f"{i}-en", "en")[0])
    for variant, times in results.items():
        best = min(times)
        print(
            f"render {count} letters, {variant:8}: {best:.2f} s ({best / count * 1000:.0f} ms "
            f"per letter); PDF sizes min {min(sizes[variant]) / 1024:.0f} KiB, median "
            f"{statistics.median(sizes[variant]) / 1024:.0f} KiB, max "
            f"{max(sizes[variant]) / 1024:.0f} KiB"
        )
    ua, plain = min(results["pdf/ua-1"]), min(results["none"])
    extra = statistics.median(sizes["pdf/ua-1"]) - statistics.median(sizes["none"])
    print(
        f"letters in the recipients' languages: {ua:.2f} s; all in English (--lang en): "
        f"{min(english):.2f} s (ratio {ua / min(english):.2f}x)"
    )
    print(
        f"pdf/ua-1 costs {ua / plain:.2f}x the time of an untagged PDF "
        f"({(ua - plain) / count * 1000:+.0f} ms and {extra / 1024:+.1f} KiB per letter)"
    )


if __name__ == "__main__":
    main()
