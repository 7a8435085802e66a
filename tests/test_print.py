"""`advocacy print`: the print set of the bundled campaign, read back from its PDFs.

A few recipients stand for the campaign: two letters to the EU institutions
(one batch of two), Germany and France (A4), the USA and Canada (US Letter) and
Lithuania, whose address nobody has found (left out, named on the cover).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pdfplumber
import pdfua
import pikepdf
import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.letter.address import address_lines
from advocacy.letter.reference import letter_reference
from advocacy.printset import sheets
from advocacy.printset.build import PrintOptions, build_print_set
from advocacy.printset.checklist import COLUMNS
from advocacy.render.manifest import load
from conftest import FIXED_DATE, REPO, normalize, run_cli

CHOSEN = ["eu", "de", "fr", "us-dos", "ca-gac", "lt-mfa"]
PT_PER_MM = 72 / 25.4
SLACK = 0.6  # pt: glyph boxes round


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The letters folder with the print set of `--by country --duplex`."""
    out = tmp_path_factory.mktemp("print") / "letters"
    build_print_set(
        open_campaign(REPO),
        PrintOptions(
            selectors=CHOSEN,
            out=out,
            by="country",
            duplex=True,
            envelope="dl",
            labels="l7163",
            skip=5,
            today=FIXED_DATE,
        ),
    )
    return out


def _printed(out: Path) -> dict[str, Path]:
    """Recipient id -> its single letter's PDF, for the letters that are printed."""
    return {
        letter.recipient: out / file.path
        for letter in load(out).letters
        if letter.address_block and (file := letter.file(".pdf")) is not None
    }


def _page_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [normalize(page.extract_text() or "") for page in pdf.pages]


BATCHES = {"eu": ["eu-commission-president", "eu-eeas-hrvp"], "de": ["de-mfa"], "fr": ["fr-mfa"]}
BATCHES |= {"us": ["us-dos"], "ca": ["ca-gac"]}


def test_each_batch_is_cover_then_letters_each_starting_on_a_front_side(letters: Path) -> None:
    singles = _printed(letters)
    for batch, ids in BATCHES.items():
        combined = _page_texts(letters / "print" / f"{batch}.pdf")
        pages = {rid: _page_texts(singles[rid]) for rid in ids}
        blanks = 1 + sum(len(p) % 2 for p in pages.values())  # the cover's back, odd letters
        assert len(combined) == 1 + blanks + sum(len(p) for p in pages.values()), batch
        firsts = []
        for rid, own in pages.items():
            first = combined.index(own[0]) + 1  # the letter's first page, found by its text
            assert first % 2 == 1, (batch, rid, first)
            assert combined[first - 1 : first - 1 + len(own)] == own
            firsts.append(first)
        assert firsts == sorted(firsts)  # in the checklist's order


def test_no_file_mixes_paper_sizes_and_the_cover_names_what_was_left_out(letters: Path) -> None:
    for path in sorted((letters / "print").glob("*.pdf")):
        with pikepdf.open(path) as pdf:
            sizes = {tuple(round(float(v)) for v in page.mediabox) for page in pdf.pages}
        assert len(sizes) == 1, path.name
    with pdfplumber.open(letters / "print" / "us.pdf") as pdf:
        assert round(pdf.pages[0].width) == 612  # US Letter
    # Lithuania has no letter to print: no file of its own; every cover names it.
    assert not list((letters / "print").glob("*lt.*"))
    eu_cover = _page_texts(letters / "print" / "eu.pdf")[0]
    assert "Letters 2" in eu_cover and "Printed on both sides yes" in eu_cover
    assert "Paper A4" in eu_cover and "lt-mfa: no checked address" in eu_cover


def test_every_letter_keeps_its_language_and_structure_tree(letters: Path) -> None:
    singles = _printed(letters)
    with pikepdf.open(letters / "print" / "eu.pdf") as pdf:
        pages = {page.obj.objgen for page in pdf.pages}
        root = pdf.Root.StructTreeRoot
        parts = list(root.K[0].K)
        assert [str(p.Lang) for p in parts] == ["en", "en", "en"]  # the cover, two letters
        seen = []

        def walk(element: object) -> None:
            if isinstance(element, pikepdf.Dictionary):
                if "/Pg" in element:
                    seen.append(element.Pg.objgen)
                kids = element.get("/K")
                for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                    walk(kid)

        walk(root)
        assert seen and set(seen) <= pages  # every element points at a page of this file
        keys = list(root.ParentTree.Nums)[::2]
        assert sorted(int(k) for k in keys) == list(range(len(keys)))
    with pikepdf.open(letters / "print" / "de.pdf") as pdf:
        assert [str(p.Lang) for p in pdf.Root.StructTreeRoot.K[0].K] == ["de", "de"]
        with pikepdf.open(singles["de-mfa"]) as single:
            assert str(single.Root.Lang) == "de"


def test_every_pdf_of_the_print_set_passes_the_pdf_ua_subset(letters: Path) -> None:
    for path in sorted((letters / "print").glob("*.pdf")):
        report = pdfua.validate(str(path))
        assert [(f.rule_id, f.message) for f in report.findings] == [], path.name
        assert report.exit_code == 0


def test_the_checklist_csv_has_the_delivery_log_columns(letters: Path) -> None:
    campaign = open_campaign(REPO)
    prefix = campaign.config.campaign.reference
    text = (letters / "print" / "checklist-eu.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert (
        tuple(rows[0]) == COLUMNS == ("id", "reference", "name", "event", "on", "by", "how", "note")
    )
    assert [r[0] for r in rows[1:]] == BATCHES["eu"]
    assert [r[1] for r in rows[1:]] == [letter_reference(prefix, rid) for rid in BATCHES["eu"]]
    assert rows[1][2] == "European Commission"
    assert all(r[3:] == [""] * 5 for r in rows[1:])  # for the group to fill in
    from advocacy.track.deliveries import COLUMNS as IMPORTED

    assert IMPORTED == COLUMNS  # the columns the delivery log reads
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "id,reference,name,event,on,by,how,note" in readme


def test_the_checklist_pdf_is_in_the_batch_language_with_references(letters: Path) -> None:
    text = " ".join(_page_texts(letters / "print" / "checklist-de.pdf"))
    assert "Übergabeliste" in text and "Stempel" in text and "Unterschrift der Stelle" in text
    assert "BY23-de-mfa" in text and "Auswärtiges Amt" in text
    french = " ".join(_page_texts(letters / "print" / "checklist-fr.pdf"))
    assert "Liste de remise" in french and "BY23-fr-mfa" in french


def _words_in(page: pdfplumber.page.Page, box: sheets.Box) -> tuple[list[str], list[str]]:
    """The words inside `box` (mm) and those outside it."""
    inside, outside = [], []
    left, top = box.left * PT_PER_MM - SLACK, box.top * PT_PER_MM - SLACK
    right, bottom = (
        left + box.width * PT_PER_MM + 2 * SLACK,
        top + box.height * PT_PER_MM + 2 * SLACK,
    )
    for word in page.extract_words():
        within = (
            word["x0"] >= left
            and word["x1"] <= right
            and word["top"] >= top
            and word["bottom"] <= bottom
        )
        (inside if within else outside).append(word["text"])
    return inside, outside


def _expected(campaign_ids: list[str]) -> dict[str, list[str]]:
    campaign = open_campaign(REPO)
    by_id = {r.id: r for r in campaign.recipients}
    return {
        rid: address_lines(
            by_id[rid],
            sender_country=campaign.config.sender.country,
            language={"de-mfa": "de", "fr-mfa": "fr"}.get(rid, "en"),
        )
        for rid in campaign_ids
    }


def _rebuilt(letters: Path, tmp_path: Path, **options: Any) -> Path:
    """The print set made again in a copy of the letters' folder (the letters are
    reused, not rendered again), with other envelopes or labels."""
    copy = tmp_path / "letters"
    shutil.copytree(letters, copy)
    options = {"selectors": CHOSEN, "out": copy, "today": FIXED_DATE, **options}
    build_print_set(open_campaign(REPO), PrintOptions(**options))
    return copy


ORDER = ["eu-commission-president", "eu-eeas-hrvp", "fr-mfa", "de-mfa", "us-dos", "ca-gac"]


@pytest.mark.parametrize("size", ["dl", "c5", "no10"])
def test_envelope_addresses_lie_inside_the_address_zone(
    letters: Path, size: str, tmp_path: Path
) -> None:
    if size != "dl":
        letters = _rebuilt(letters, tmp_path, envelope=size)
    envelope = sheets.ENVELOPES[size]
    expected = _expected(ORDER)
    with pdfplumber.open(letters / "print" / f"envelopes-{size}.pdf") as pdf:
        assert len(pdf.pages) == len(ORDER)
        for page, rid in zip(pdf.pages, ORDER, strict=True):
            assert abs(page.width - envelope.width * PT_PER_MM) < 1
            inside, _ = _words_in(page, envelope.zone)
            assert " ".join(inside) == " ".join(" ".join(expected[rid]).split()), rid
            back, elsewhere = _words_in(page, envelope.sender)
            assert back and "Example" in back[0]
            assert sorted(elsewhere) == sorted(inside)  # nothing outside the two zones


@pytest.mark.parametrize("name", ["l7163", "5160"])
def test_label_addresses_lie_inside_their_cells_from_label_six(
    letters: Path, name: str, tmp_path: Path
) -> None:
    if name != "l7163":
        letters = _rebuilt(letters, tmp_path, labels=name, skip=5)
    sheet = sheets.LABELS[name]
    expected = _expected(ORDER)
    with pdfplumber.open(letters / "print" / f"labels-{name}.pdf") as pdf:
        page = pdf.pages[0]
        assert abs(page.width - sheet.page_width * PT_PER_MM) < 1
        placed = 0
        for index in range(sheet.per_sheet):
            inside, _ = _words_in(page, sheet.cell(index))
            if index < 5 or index >= 5 + len(ORDER):
                assert inside == [], index  # used labels, and those left blank
                continue
            rid = ORDER[index - 5]
            assert " ".join(inside) == " ".join(" ".join(expected[rid]).split()), rid
            placed += 1
        assert placed == len(ORDER)
        assert len(page.extract_words()) == sum(len(" ".join(v).split()) for v in expected.values())


def test_a_wrong_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        "print", str(REPO), "--out", str(tmp_path / "l"), "--labels", "5160", "--skip", "30"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --skip 30: a 5160 sheet has 30 labels; give 0 to 29"
    ]
    result = run_cli("print", str(REPO), "--out", str(tmp_path / "l"), "--envelope", "b4")
    assert result.returncode == 2 and "--envelope 'b4'" in result.stderr
    result = run_cli("print", str(REPO), "--out", str(tmp_path / "l"), "--by", "group")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --by group needs the relay list: give --via groups.csv"
    assert not (tmp_path / "l").exists()


def test_one_batch_of_both_papers_is_two_files_named_by_paper(
    letters: Path, tmp_path: Path
) -> None:
    copy = _rebuilt(letters, tmp_path, by="none")
    made = sorted(p.name for p in (copy / "print").glob("all*.pdf"))
    assert made == ["all-a4.pdf", "all-letter.pdf"]
    with pdfplumber.open(copy / "print" / "all-letter.pdf") as pdf:
        assert {(round(p.width), round(p.height)) for p in pdf.pages} == {(612, 792)}
        text = normalize(" ".join(p.extract_text() or "" for p in pdf.pages))
    assert "U.S. Department of State" in text and "Auswärtiges Amt" not in text
    assert "Paper Letter" in text and "Printed on both sides no" in text
    rows = list(csv.reader(io.StringIO((copy / "print/checklist-all.csv").read_text("utf-8"))))
    assert [r[0] for r in rows[1:]] == ORDER  # one checklist for the batch, both papers


def test_the_filled_in_checklist_is_read_back_by_the_delivery_log_import(
    letters: Path, tmp_path: Path
) -> None:
    from advocacy.track.deliveries import read_csv

    campaign = open_campaign(REPO)
    rows = list(csv.reader(io.StringIO((letters / "print/checklist-eu.csv").read_text("utf-8"))))
    rows[1][3:8] = ["delivered", "2026-12-01", "Anna K.", "hand", "reception desk"]
    filled = tmp_path / "filled.csv"
    with filled.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    known = {r.id for r in campaign.recipients}
    entries = read_csv(filled, known, campaign.config.campaign.reference)
    assert [(e.recipient, e.event, e.on.isoformat(), e.by, e.how) for e in entries] == [
        ("eu-commission-president", "delivered", "2026-12-01", "Anna K.", "hand")
    ]  # the row left blank is a letter not yet delivered: skipped


def test_a_print_set_records_its_letters_as_printed_once(tmp_path: Path) -> None:
    import json

    from advocacy.track.history import History
    from mailserver import make_campaign, office

    campaign = make_campaign(tmp_path / "c", [office(1), office(2)])
    out = tmp_path / "letters"
    for _ in range(2):  # the same PDFs printed twice are printed once, as far as the loop goes
        made = run_cli("print", str(campaign), "--out", str(out), "--by", "none")
        assert made.returncode == 0, made.stderr
    status = json.loads(run_cli("status", str(campaign), "--out", str(out), "--json").stdout)
    assert {item["id"]: item["state"] for item in status["letters"]} == {
        "r1": "printed",
        "r2": "printed",
    }
    with History(out) as history:
        printed = [e for e in history.events() if e.state == "printed"]
    assert sorted(e.recipient for e in printed) == ["r1", "r2"]


def test_the_filled_in_checklist_round_trips_through_advocacy_log_csv(
    letters: Path, tmp_path: Path
) -> None:
    import sqlite3

    out = tmp_path / "letters"
    shutil.copytree(letters, out)  # the log writes into the letters' folder
    sheet = out / "print" / "checklist-eu.csv"
    rows = list(csv.reader(io.StringIO(sheet.read_text("utf-8"))))
    rows[1][3:8] = ["delivered", "2026-12-01", "Anna K.", "hand", "reception desk"]
    rows[2][3:8] = ["posted", "2026-12-02", "", "post", ""]
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    env = {"ADVOCACY_TODAY": "2026-12-10"}
    imported = run_cli(
        "log", "--campaign", str(REPO), "--out", str(out), "--csv", str(sheet), env=env
    )
    assert imported.returncode == 0, imported.stderr
    assert "recorded 2" in imported.stdout
    with sqlite3.connect(out / "outbox.sqlite3") as db:
        logged = db.execute(
            "SELECT recipient, state, on_date, how, by_whom FROM history "
            "WHERE state IN ('delivered', 'posted') ORDER BY recipient"
        ).fetchall()
    assert logged == [
        ("eu-commission-president", "delivered", "2026-12-01", "hand", "Anna K."),
        ("eu-eeas-hrvp", "posted", "2026-12-02", "post", ""),
    ]
