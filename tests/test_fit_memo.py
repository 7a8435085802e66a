"""Letters of one flow share their fold moves (formats/fit.py's memo), and a letter
still comes out byte for byte as it does when rendered alone.

The German letters below share their running text; one has a salutation wide
enough to take two lines: the memo's guess must be refused for it (its lines lie
elsewhere) and that letter finds its own moves."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.formats import fit
from advocacy.formats.pdf import PdfRenderer
from advocacy.render.batch import RenderOptions, SilentReporter, render
from conftest import REPO, bundled_toml

OFFICE = """\
- id: {id}
  country: DE
  organisation: Auswärtiges Amt
  languages: [de-DE]
  address: {{street_address: "Werderscher Markt 1", postal_code: "10117", city: Berlin}}
  confidence: high
"""
# 75 characters: short enough to count as a short text of <main>, wide enough to wrap.
_LAYOUT = PdfRenderer._layout
WIDE = '  salutation: {de: "' + " ".join(["WWWW"] * 15) + ',"}\n'


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    listing = "".join(OFFICE.format(id=i) for i in ("a1", "a2", "a3"))
    listing += OFFICE.format(id="wide") + WIDE
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(listing, encoding="utf-8")
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    return root


def _render(
    campaign: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *selectors: str
) -> Counter[str]:
    """Render in this process (one job), counting layouts per recipient."""
    layouts: Counter[str] = Counter()

    def counted(self: PdfRenderer, html: str) -> tuple[Any, Any]:
        found = re.search(r"Ref\. BY23-(\w+)", html)
        layouts[found.group(1) if found else "?"] += 1
        return _LAYOUT(self, html)

    monkeypatch.setattr(PdfRenderer, "_layout", counted)
    options = RenderOptions(
        selectors=selectors, formats=("pdf", "html"), out=out, jobs=1, force=True
    )
    summary = render(open_campaign(campaign), options, SilentReporter())
    assert not summary.failed, summary.failed
    return layouts


def test_letters_of_one_flow_take_one_layout_and_the_moves_they_would_find_alone(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit, "MEMO", fit._Memo())
    batch = _render(campaign, tmp_path / "batch", monkeypatch)
    assert batch["a1"] >= 2, "the German letter needs a move off a fold for this test"
    assert batch["a2"] == batch["a3"] == 1  # the memo's moves, checked by one layout
    alone: dict[str, int] = {}
    for key in ("a1", "a2", "a3", "wide"):
        monkeypatch.setattr(fit, "MEMO", fit._Memo())  # a fresh process, as a shard is
        alone[key] = _render(campaign, tmp_path / key, monkeypatch, key)[key]
        for suffix in (".de.pdf", ".de.html"):
            made = (tmp_path / "batch" / f"{key}{suffix}").read_bytes()
            assert made == (tmp_path / key / f"{key}{suffix}").read_bytes(), key + suffix
    # The wide salutation moves the text: the guess is laid out once, refused, and
    # the letter then takes the layouts it takes alone.
    assert batch["wide"] == alone["wide"] + 1
    assert alone["a2"] == alone["a1"] == batch["a1"]
    laid_out = (tmp_path / "wide" / "wide.de.html").read_text(encoding="utf-8")
    assert laid_out != (tmp_path / "a1" / "a1.de.html").read_text(encoding="utf-8")


def test_a_flow_learned_by_one_worker_serves_the_others_through_the_run_s_folder(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    # Worker one learns the German flow and leaves it in the run's folder.
    monkeypatch.setattr(fit, "MEMO", fit._Memo(shared=shared))
    first = _render(campaign, tmp_path / "one", monkeypatch, "a1")
    assert first["a1"] >= 2 and len(list(shared.glob("*.json"))) == 1
    # Worker two starts with an empty memo of its own: one layout, from the folder.
    monkeypatch.setattr(fit, "MEMO", fit._Memo(shared=shared))
    second = _render(campaign, tmp_path / "two", monkeypatch, "a2")
    assert second["a2"] == 1
    monkeypatch.setattr(fit, "MEMO", fit._Memo())
    alone = _render(campaign, tmp_path / "alone", monkeypatch, "a2")
    assert alone["a2"] == first["a1"]
    for suffix in (".de.pdf", ".de.html"):
        made = (tmp_path / "two" / f"a2{suffix}").read_bytes()
        assert made == (tmp_path / "alone" / f"a2{suffix}").read_bytes(), suffix
    # A half-written or foreign file there is not trusted: the letter learns alone.
    (next(shared.glob("*.json"))).write_text('{"nudges": {"x": ', encoding="utf-8")
    monkeypatch.setattr(fit, "MEMO", fit._Memo(shared=shared))
    assert _render(campaign, tmp_path / "three", monkeypatch, "a3")["a3"] == first["a1"]


def test_pdf_workers_are_replaced_after_their_share_of_letters(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDF worker's C memory grows with every letter (render/batch.py): after
    LETTERS_PER_WORKER letters a fresh process takes over, with -j 1 as well, and the
    letters are those one process makes."""
    import os

    from advocacy.render import batch

    started = tmp_path / "workers.txt"
    original = batch.init_process

    def counted(config: Any) -> None:
        with started.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        original(config)

    monkeypatch.setattr(batch, "init_process", counted)
    monkeypatch.setattr(batch, "LETTERS_PER_WORKER", 1)
    options = RenderOptions(formats=("pdf",), out=tmp_path / "recycled", jobs=1, force=True)
    summary = render(open_campaign(campaign), options, SilentReporter())
    assert not summary.failed and len(summary.letters) == 4
    pids = started.read_text(encoding="utf-8").split()
    assert len(set(pids)) == 4 and str(os.getpid()) not in pids  # one per letter
    monkeypatch.setattr(batch, "LETTERS_PER_WORKER", 1000)
    alone = RenderOptions(formats=("pdf",), out=tmp_path / "alone", jobs=1, force=True)
    assert not render(open_campaign(campaign), alone, SilentReporter()).failed
    for made in (tmp_path / "recycled").glob("*.pdf"):
        assert made.read_bytes() == (tmp_path / "alone" / made.name).read_bytes(), made.name
