"""Window-envelope geometry, read back from the PDF with pdfplumber."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pdfplumber
import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.render.batch import RenderOptions, render
from conftest import FIXED_DATE, edit_file, normalize

MM = 72 / 25.4
INCH = 72.0

# (left, top, width, height) in points, from the page's top-left corner.
DIN_5008_B = (20 * MM, 45 * MM, 85 * MM, 45 * MM)
US_NO_10 = (0.6875 * INCH, 2.1875 * INCH, 4.5 * INCH, 1.125 * INCH)


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from conftest import MINI_RECIPIENTS, REPO

    root = tmp_path_factory.mktemp("camp")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "campaign.toml", root / "campaign.toml")
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(MINI_RECIPIENTS, encoding="utf-8")
    out = root / "letters"
    render(open_campaign(root), RenderOptions(out=out, today=FIXED_DATE))
    return out


def _inside(word: dict, box: tuple[float, float, float, float]) -> bool:
    left, top, width, height = box
    return (
        word["x0"] >= left - 0.5
        and word["x1"] <= left + width + 0.5
        and word["top"] >= top - 0.5
        and word["bottom"] <= top + height + 0.5
    )


@pytest.mark.parametrize(
    ("name", "box", "lines"),
    [
        ("de-mfa.en.pdf", DIN_5008_B, ["Federal Foreign Office", "11013 BERLIN", "GERMANY"]),
        (
            "us-dos.en.pdf",
            US_NO_10,
            ["U.S. Department of State", "2201 C Street NW", "WASHINGTON, DC 20520"],
        ),
    ],
)
def test_address_lies_inside_the_window(
    letters: Path, name: str, box: tuple[float, float, float, float], lines: list[str]
) -> None:
    with pdfplumber.open(letters / name) as pdf:
        words = pdf.pages[0].extract_words()
    for line in lines:
        for token in line.split():
            hits = [w for w in words if w["text"] == token and _inside(w, box)]
            assert hits, f"{token!r} of {line!r} not inside the window of {name}"
    # The address comes before any body text: nothing else in the window but the
    # return-address line.
    inside = " ".join(w["text"] for w in words if _inside(w, box))
    assert "Dear" not in inside and "resolution" not in inside


def test_din_return_address_fills_the_first_5_mm(letters: Path) -> None:
    left, top, width, _ = DIN_5008_B
    with pdfplumber.open(letters / "de-mfa.en.pdf") as pdf:
        words = pdf.pages[0].extract_words()
    strip = [w for w in words if _inside(w, (left, top, width, 5 * MM))]
    assert strip and strip[0]["text"] == "Example"
    assert max(w["bottom"] - w["top"] for w in strip) < 9  # small type


def test_fold_and_hole_marks_on_a4(letters: Path) -> None:
    with pdfplumber.open(letters / "de-mfa.en.pdf") as pdf:
        page = pdf.pages[0]
        shapes = [*page.lines, *page.rects]
    marks = sorted(round(s["top"] / MM, 1) for s in shapes if s["x0"] < 15 * MM)
    assert marks == [105.0, 148.5, 210.0]
    assert all(abs(s["x0"] - 3.5 * MM) < 0.5 for s in shapes if s["x0"] < 15 * MM)


def test_later_pages_carry_a_page_number_and_no_address(letters: Path) -> None:
    with pdfplumber.open(letters / "de-mfa.en.pdf") as pdf:
        assert len(pdf.pages) >= 2
        first = pdf.pages[0].extract_text()
        second = pdf.pages[1].extract_text()
    assert "Page 1" not in first
    assert f"Page 2 of {len(pdf.pages)}" in second
    assert "11013" not in second and "BERLIN" not in second


def test_fixed_date_from_campaign_file_wins(tmp_path: Path, mini_campaign: Path) -> None:
    toml = mini_campaign / "campaign.toml"
    edit_file(toml, "date = 2026-12-10", "date = 2024-03-01")
    out = tmp_path / "out"
    render(open_campaign(mini_campaign), RenderOptions(out=out, today=dt.date(2030, 1, 1)))
    with pdfplumber.open(out / "de-mfa.en.pdf") as pdf:
        assert "1 March 2024" in normalize(pdf.pages[0].extract_text())
