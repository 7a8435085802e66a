"""Start-up work that every render pays: WeasyPrint loads its system libraries without
running ldconfig, gcc and ld for each name it tries, and the lookup it borrows for
that is given back; the objects frozen before the workers fork are not walked by a
full collection first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# Prepended to each probe: the programs the probe's process starts, in `started`.
WATCH = """
import sys
started = []
def hook(event, args):
    if event == "subprocess.Popen":
        started.append(args[1])
sys.addaudithook(hook)
"""

PROBE = (
    WATCH
    + """
import ctypes.util
looked_up = ctypes.util.find_library
from advocacy.formats.pdf import _import_weasyprint
weasyprint = _import_weasyprint()
assert ctypes.util.find_library is looked_up
assert _import_weasyprint() is weasyprint
document = weasyprint.HTML(string="<p>Minsk</p>").render()
print(len(document.pages), started)
"""
)


def test_weasyprint_loads_its_libraries_without_starting_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    pages, started = result.stdout.strip().split(" ", 1)
    assert pages == "1"
    assert started == "[]"  # before: ldconfig, gcc and ld, about 50 of them


def test_freezing_before_the_fork_walks_only_the_young_objects() -> None:
    """A full collection before every batch walked the ~100,000 objects of the imports
    (45 ms of a 200-letter render's start, in the parent, before any worker started)
    and found ~80 unreachable ones: only the young generations are collected."""
    import gc

    from advocacy.render.worker import frozen

    collected: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    garbage: list[object] = []
    garbage.append(garbage)  # a young cycle: the collection before freezing finds it
    del garbage
    gc.callbacks.append(watch)
    try:
        with frozen():
            assert gc.get_freeze_count() > 0
    finally:
        gc.callbacks.remove(watch)
    assert collected and max(collected) < 2, collected
    assert gc.get_freeze_count() == 0  # given back after the block


RENDER_PROBE = (
    WATCH
    + """
from advocacy.cli import main
sys.argv = ["advocacy", "render", "--to", "de-mfa", "--format", "pdf", "--format", "eml",
            "--out", sys.argv[1], "--jobs", "1"]
try:
    main()
except SystemExit as end:
    assert not end.code, end.code
print(started)
"""
)


def test_a_render_starts_no_program(tmp_path: Path) -> None:
    """Asking whether HarfBuzz's subsetter is installed with ctypes' find_library ran
    `ldconfig -p` on every render and send; what WeasyPrint loaded says it for free."""
    result = subprocess.run(
        [sys.executable, "-c", RENDER_PROBE, str(tmp_path / "out")],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1] == "[]", result.stdout
    assert (tmp_path / "out" / "de-mfa.de.pdf").is_file()


def test_without_harfbuzz_subset_a_pdf_render_says_it_is_slower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from advocacy.campaign.discovery import open_campaign
    from advocacy.formats.pdf import _import_weasyprint
    from advocacy.render.batch import RenderOptions, SilentReporter, render

    ffi = _import_weasyprint().text.ffi
    campaign = open_campaign(REPO)

    def warnings(formats: tuple[str, ...], out: str) -> list[str]:
        options = RenderOptions(selectors=["de-mfa"], formats=formats, out=tmp_path / out, jobs=1)
        return [w for w in render(campaign, options, SilentReporter()).warnings if "3-4" in w]

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)  # as WeasyPrint leaves it when absent
    (line,) = warnings(("pdf",), "slow")
    assert "libharfbuzz-subset0 is not installed" in line and "apt-get install" in line
    assert warnings(("html",), "html") == []  # no PDF made: nothing to say
    monkeypatch.setattr(ffi, "harfbuzz_subset", object())
    assert warnings(("pdf",), "fast") == []
