"""The print set's own sheets (cover, delivery checklist) in every language of the
bundled campaign, built at library level and read back with pdfplumber and pikepdf.

One cover and one checklist per language, through the same writer methods
`advocacy print` uses; the batch holds no letters (the sheets' words do not depend
on them), so 25 languages take seconds, not 25 rendered letters.
"""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pdfua
import pikepdf
import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.printset.build import PrintOptions, PrintSummary, _Writer
from advocacy.printset.plan import Batch
from advocacy.printset.words import KEYS, review_state, table, words_for
from conftest import REPO, normalize

BUNDLED = ["en", *sorted(p.name for p in (REPO / "locales").iterdir() if p.is_dir())]
ENGLISH = table()["en"]


def test_every_bundled_language_has_every_word() -> None:
    assert len(BUNDLED) == 25  # en and the 24 folders in locales/
    for code in BUNDLED:
        assert code in table(), f"assets/printset-words.toml has no [{code}]"
        words = table()[code]
        assert sorted(set(words) - {"state"}) == sorted(KEYS), code
        assert words["state"] in ("source", "machine-drafted", "reviewed"), code
        assert all(words[k].strip() for k in KEYS), code
        assert "{" not in words["no_address"] + words["no_pdf"] + words["failed"], code
        for slot in ("{files}", "{paper}", "{sides}", "{checklist}", "{reply}"):
            assert slot in words["how_to_print"], (code, slot)
        if code != "en":
            assert words["checklist"] != ENGLISH["checklist"], code
            assert review_state(code) == "machine-drafted"  # until a native speaker reviews it


def test_a_language_the_table_lacks_falls_back_to_english() -> None:
    assert words_for("uk") == ("en", ENGLISH)
    assert words_for("de-AT")[0] == "de"


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> _Writer:
    out = tmp_path_factory.mktemp("words") / "letters"
    return _Writer(open_campaign(REPO), PrintOptions(out=out), PrintSummary("print"))


def _text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return normalize(" ".join(page.extract_text() or "" for page in pdf.pages))


def _joined(text: str) -> str:
    """A table cell's text without its spaces and line breaks (nothing hyphenates)."""
    return "".join(text.split())


def _lang(data: bytes) -> str:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return str(pdf.Root.Lang)


@pytest.mark.parametrize("code", BUNDLED)
def test_cover_and_checklist_are_in_the_batch_language(
    writer: _Writer, code: str, tmp_path: Path
) -> None:
    words = {k: normalize(v) for k, v in table()[code].items()}
    batch = Batch(code, code, left_out=[("lt-mfa", "no checked address")], label=code.upper())
    cover = writer.cover(batch, "A4", [], f"print/{code}.pdf (cover)")
    checklist = writer.checklist(batch, [("Name", "xx-id", ["Street 1", "City"], "BY23-xx")])
    assert _lang(cover) == code and _lang(checklist) == code
    (tmp_path / "checklist.pdf").write_bytes(checklist)
    report = pdfua.validate(str(tmp_path / "checklist.pdf"))
    assert [(f.rule_id, f.message) for f in report.findings] == [], code
    text = _text(cover)
    for key in ("print_set", "campaign", "batch", "letters", "pages", "paper", "duplex"):
        assert words[key] in text, (code, key)
    assert words["left_out"] in text and words["no"] in text
    assert f"lt-mfa: {words['no_address']}" in text  # the reason, in the language too
    text = _text(checklist)
    assert words["checklist"] in text and words["report"] in text
    with pdfplumber.open(io.BytesIO(checklist)) as pdf:
        header = [_joined(cell or "") for cell in pdf.pages[0].extract_tables()[0][0]]
    columns = ("recipient", "address", "reference", "delivered_by", "date", "stamp")
    assert header == [_joined(words[k]) for k in columns], code  # whole: none clipped
    if code != "en":
        for english in ("Delivery checklist", "Print set", "Letters left out", "Recipient"):
            assert english not in _text(cover) + text, (code, english)
    drafted = [w for w in writer.summary.warnings if "cover and checklist wording" in w]
    assert bool(drafted) == (code != "en")


def test_uk_prints_in_english_and_the_run_says_so(writer: _Writer) -> None:
    batch = Batch("uk", "uk")
    checklist = writer.checklist(batch, [])
    assert _lang(checklist) == "en"
    assert "Delivery checklist" in _text(checklist)
    assert "print set: sheets in 'uk' print in English (no wording for it)" in (
        writer.summary.warnings
    )
