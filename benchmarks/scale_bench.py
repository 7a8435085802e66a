"""Scale benchmark: thousands of letters against WeasyPrint's own speed.

Run: .venv/bin/python benchmarks/scale_bench.py [--sizes 200 2000] [--large] [--naive 40]
         [--repeat 3]

Makes a synthetic campaign (the bundled templates and catalogs; N recipients
over 12 languages, A4 and Letter, names and addresses in Latin, Greek and
Cyrillic) and prints, in one run:
1. the ceiling: pure WeasyPrint on the same HTML the tool lays out (the letters as
   printed, after formats/fit.py), one process per core, each reusing its CSS and
   fonts (letters/s); and, beside it, the ceiling on the HTML before fitting, with
   how many letters needed a fold move or smaller type;
2. `advocacy render` on the same campaign (letters/s) and its ratio to the ceiling;
   with `--repeat K`, K rounds of both in turn, and the ratio of their medians;
3. the naive loop (new HTML, CSS and fonts per letter, one process) and the ratio;
4. peak RSS of the largest process for each N (`--large` adds a PDF+HTML render
   of N=20,000, measured for its memory only), and the ratio of the largest N to
   the smallest (target: within 1.15);
5. a rerun with nothing changed and with one recipient changed, against the full render;
6. the start-up time of `advocacy --help`;
7. the time and peak RSS of loading 100,000 recipients from YAML and from CSV
   (`--load 0` leaves it out).

`--html-rss 200 20000` instead prints only the peak RSS of HTML-only renders at
those sizes: the memory of N letters without the time that N PDFs take;
`--pdf-rss 200 20000` the same for PDF+HTML renders (20,000: 20 minutes).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from advocacy.paths import ASSETS_DIR, bundled_campaign_dir

LANGS = [
    ("DE", "de-DE", "Berlin", "10117"),
    ("FR", "fr-FR", "Paris", "75007"),
    ("PL", "pl-PL", "Warszawa", "00-580"),
    ("GR", "el-GR", "Αθήνα", "106 71"),
    ("BG", "bg-BG", "София", "1113"),
    ("IT", "it-IT", "Roma", "00135"),
    ("ES", "es-ES", "Madrid", "28001"),
    ("NL", "nl-NL", "Den Haag", "2515 XP"),
    ("SE", "sv-SE", "Stockholm", "103 39"),
    ("US", "en-US", "Washington", "20520"),
    ("CA", "fr-CA", "Ottawa", "K1A 0G2"),
    ("LT", "be", "Vilnius", "01100"),
]
NAMES = ["Anna Schmidt", "Γιώργος Παπαδόπουλος", "Алена Кавалёва", "Jean Dupont", "Іван Петраў"]


def make_campaign(root: Path, n: int) -> None:
    source = bundled_campaign_dir()
    for part in ("templates", "locales"):
        shutil.copytree(source / part, root / part, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(source / "campaign.toml", root / "campaign.toml")
    (root / "recipients").mkdir()
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    (root / "recipients" / "list.yaml").write_text(
        yaml.dump(entries(n), Dumper=dumper, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


def entries(n: int) -> list[dict[str, Any]]:
    """N synthetic recipients over 12 languages and three scripts."""
    found = []
    for i in range(n):
        country, lang, city, postcode = LANGS[i % len(LANGS)]
        entry: dict[str, Any] = {
            "id": f"r{i:05d}",
            "country": country,
            "organisation": {"en": f"Office {i}", lang.split("-")[0]: f"{NAMES[i % 5]} {i}"},
            "name": NAMES[(i + 2) % 5],
            "languages": [lang],
            "address": {
                "street_address": f"{NAMES[i % 5].split()[0]} {i}",
                "city": city,
                "postal_code": postcode,
            },
            "tags": ["mfa"] if i % 2 else ["group"],
            "confidence": "high",
        }
        if country == "US":
            entry["address"]["country_area"] = "DC"
        if country == "CA":
            entry["address"]["country_area"] = "ON"
        found.append(entry)
    return found


def write_csv(path: Path, n: int) -> None:
    """The same recipients as a spreadsheet saves them: one column per field."""
    columns = ["id", "country", "organisation.en", "name", "languages", "street_address"]
    columns += ["city", "postal_code", "country_area", "tags", "confidence"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for e in entries(n):
            a = e["address"]
            writer.writerow(
                [
                    e["id"],
                    e["country"],
                    e["organisation"]["en"],
                    e["name"],
                    e["languages"][0],
                    a["street_address"],
                    a["city"],
                    a["postal_code"],
                    a.get("country_area", ""),
                    " ".join(e["tags"]),
                    e["confidence"],
                ]
            )


def load_time(path: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of loading one list in a fresh process."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from advocacy.campaign.recipients import load_all\n"
        "t = time.perf_counter()\n"
        "n = len(load_all([Path(sys.argv[1])]))\n"
        # VmHWM, not ru_maxrss: Linux keeps the maxrss of the (large) benchmark
        # process across fork and exec, VmHWM is this program's own.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(time.perf_counter() - t, hwm, n)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    seconds, rss, _ = result.stdout.split()
    return float(seconds), int(rss)


def loading(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "campaign"
        root.mkdir()
        make_campaign(root, n)
        write_csv(root / "list.csv", n)
        yaml_s, yaml_rss = load_time(root / "recipients" / "list.yaml")
        csv_s, csv_rss = load_time(root / "list.csv")
    libyaml = "libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure-Python YAML"
    print(
        f"load {n:,} recipients: YAML {yaml_s:.1f} s ({yaml_rss / 1024:.0f} MiB, {libyaml}), "
        f"CSV {csv_s:.1f} s ({csv_rss / 1024:.0f} MiB); YAML / CSV {yaml_s / csv_s:.2f}"
    )


def run_advocacy(*args: str) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of the largest process of one advocacy run."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    # Synthetic letters that are never sent: an interpreter without the email-header
    # fix (runtime.py) may still measure them.
    env = {"ADVOCACY_ALLOW_UNFIXED_PYTHON": "1", **os.environ}
    result = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "advocacy", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    seconds, rss = result.stdout.split()
    return float(seconds), int(rss)


# -- pure WeasyPrint ------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _stylesheets(weasyprint: Any, fonts: Any, campaign_css: str) -> list[Any]:
    """The same two stylesheets advocacy uses: the bundled layout and the campaign's."""
    base = (ASSETS_DIR / "base.css").read_text(encoding="utf-8")
    return [
        weasyprint.CSS(string=base, base_url=ASSETS_DIR.as_uri() + "/", font_config=fonts),
        weasyprint.CSS(string=campaign_css, font_config=fonts),
    ]


def _ceiling_init(base_url: str, css_text: str) -> None:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = _stylesheets(weasyprint, fonts, css_text)
    _STATE.update(wp=weasyprint, fonts=fonts, css=css, base=base_url)


def _ceiling_one(html: str) -> int:
    document = _STATE["wp"].HTML(string=html, base_url=_STATE["base"])
    data = document.write_pdf(
        stylesheets=_STATE["css"],
        font_config=_STATE["fonts"],
        pdf_variant="pdf/ua-1",
        pdf_tags=True,
    )
    return len(data)


def ceiling(html_files: list[Path], base_url: str, css_text: str) -> float:
    texts = [p.read_text(encoding="utf-8") for p in html_files]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(
        os.cpu_count(), initializer=_ceiling_init, initargs=(base_url, css_text)
    ) as pool:
        list(pool.imap_unordered(_ceiling_one, texts, chunksize=8))
    return len(texts) / (time.perf_counter() - started)


def naive(html_files: list[Path], base_url: str, css_text: str) -> float:
    """The naive loop, in a child process: WeasyPrint imported here would be inherited by
    the next ceiling's forked workers, which would skip their own import (~0.3 s)."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return float(pool.apply(_naive, (html_files, base_url, css_text)))


def _naive(html_files: list[Path], base_url: str, css_text: str) -> float:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    started = time.perf_counter()
    for path in html_files:
        fonts = FontConfiguration()
        css = _stylesheets(weasyprint, fonts, css_text)
        weasyprint.HTML(string=path.read_text(encoding="utf-8"), base_url=base_url).write_pdf(
            stylesheets=css, font_config=fonts, pdf_variant="pdf/ua-1", pdf_tags=True
        )
    return len(html_files) / (time.perf_counter() - started)


def peak_rss(sizes: list[int], formats: tuple[str, ...]) -> dict[int, int]:
    """Peak RSS (KiB) of `advocacy render` in `formats` at each size: what the parent
    and the workers hold for N letters, without ceilings or reruns."""
    found = {}
    flags = [part for fmt in formats for part in ("--format", fmt)]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "campaign"
            root.mkdir()
            make_campaign(root, n)
            seconds, found[n] = run_advocacy(
                "render", str(root), *flags, "--out", str(Path(tmp) / "out")
            )
        print(f"N={n}: {'+'.join(formats)} render {seconds:.1f} s, peak RSS "
              f"{found[n] / 1024:.0f} MiB")  # fmt: skip
    return found


def html_rss(sizes: list[int]) -> None:
    found = peak_rss(sizes, ("html",))
    small, large = min(found), max(found)
    print(f"peak RSS of HTML renders, N={large} / N={small}: {found[large] / found[small]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--naive", type=int, default=40, help="letters for the naive loop")
    parser.add_argument(
        "--large",
        action="store_true",
        help="also the peak RSS of a PDF+HTML render of N=20,000 (20 minutes on 2 cores)",
    )
    parser.add_argument("--load", type=int, default=100_000, help="recipients to load; 0: none")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of ceiling and render; medians compared"
    )
    parser.add_argument(
        "--html-rss",
        type=int,
        nargs="*",
        default=[],
        help="only the peak RSS of HTML-only renders at these sizes (no WeasyPrint: minutes)",
    )
    parser.add_argument("--pdf-rss", type=int, nargs="*", default=[], help="the same, PDF+HTML")
    args = parser.parse_args()
    if args.pdf_rss:
        found = peak_rss(args.pdf_rss, ("pdf", "html"))
        small, large = min(found), max(found)
        print(f"peak RSS of PDF renders, N={large} / N={small}: {found[large] / found[small]:.2f}")
        return
    if args.html_rss:
        html_rss(args.html_rss)
        return
    if args.load:
        loading(args.load)
    print(f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}")

    help_times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "advocacy", "--help"], capture_output=True, check=True
        )
        help_times.append(time.perf_counter() - t)
    print(f"advocacy --help: {statistics.median(help_times):.3f} s (median of 5)")

    rss: dict[int, int] = {}
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "campaign"
            root.mkdir()
            make_campaign(root, n)
            html_out = Path(tmp) / "html"
            run_advocacy("render", str(root), "--format", "html", "--out", str(html_out))
            html_files = sorted(html_out.glob("*.html"))
            base_url = root.resolve().as_uri() + "/"
            css_text = (root / "templates" / "letter.css").read_text(encoding="utf-8")
            composed = ceiling(html_files, base_url, css_text)

            out = Path(tmp) / "letters"
            # The HTML beside each PDF is the one laid out: with the type sizes and fold
            # moves of formats/fit.py, which lays a letter out again until it fits.
            both = ("--format", "pdf", "--format", "html", "--out", str(out))
            full, rss[n] = run_advocacy("render", str(root), *both)
            fitted = sorted(out.glob("*.html"))
            relaid = sum(a.read_bytes() != (out / a.name).read_bytes() for a in html_files)
            # Rounds of the ceiling and advocacy in turn, compared by their medians: on a
            # shared machine one run of either can be 10% off.
            ceilings, fulls = [ceiling(fitted, base_url, css_text)], [full]
            for _ in range(args.repeat - 1):
                shutil.rmtree(out)
                seconds, peak = run_advocacy("render", str(root), *both)
                fulls.append(seconds)
                rss[n] = max(rss[n], peak)
                ceilings.append(ceiling(fitted, base_url, css_text))
            full, ceil = statistics.median(fulls), statistics.median(ceilings)
            rate = n / full
            if args.repeat > 1:
                rounds = ", ".join(f"{n / f / c:.2f}" for f, c in zip(fulls, ceilings, strict=True))
                print(f"N={n}: ratio to ceiling per round: {rounds}")
            rerun, _ = run_advocacy("render", str(root), *both)
            path = root / "recipients" / "list.yaml"
            path.write_text(
                path.read_text(encoding="utf-8").replace(
                    "street_address: Anna 0\n", "street_address: Anna 0a\n", 1
                ),
                encoding="utf-8",
            )
            one, _ = run_advocacy("render", str(root), *both)
            print(
                f"N={n}: ceiling {ceil:.1f} letters/s; advocacy render {rate:.1f} letters/s "
                f"({full:.1f} s, ratio to ceiling {rate / ceil:.2f}); peak RSS "
                f"{rss[n] / 1024:.0f} MiB"
            )
            print(
                f"N={n}: {relaid} of {n} letters needed a fold move or smaller type (most "
                f"take one layout: fit.py's memo); ceiling on the HTML before fitting "
                f"{composed:.1f} letters/s, ratio {rate / composed:.2f}"
            )
            print(
                f"N={n}: rerun, nothing changed {rerun:.2f} s ({rerun / full:.1%} of full); "
                f"one recipient changed {one:.2f} s ({one / full:.1%})"
            )
            if n == args.sizes[0]:
                slow = naive(html_files[: args.naive], base_url, css_text)
                print(
                    f"naive loop ({args.naive} letters): {slow:.1f} letters/s; advocacy is "
                    f"{rate / slow:.1f}x faster"
                )
    if args.large:  # memory only: the ceiling and reruns at 20,000 would take an hour more
        rss.update(peak_rss([20_000], ("pdf", "html")))
    if len(rss) > 1:
        small, large = min(rss), max(rss)
        print(f"peak RSS N={large} / N={small}: {rss[large] / rss[small]:.2f}")


if __name__ == "__main__":
    main()
