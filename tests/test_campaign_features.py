"""Spreadsheet CSV lists, signatures, co-signatories, selectors, formats, variants."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from advocacy.campaign.discovery import open_campaign
from advocacy.render.batch import RenderOptions, SilentReporter, render
from conftest import FIXED_DATE, edit_file, normalize, pdf_text, run_cli


def test_spreadsheet_csv_with_bom_semicolons_and_crlf(mini_campaign: Path, tmp_path: Path) -> None:
    (mini_campaign / "recipients" / "list.yaml").unlink()
    rows = [
        "id;country;organisation.en;organisation.pl;languages;street_address;postal_code;city;tags",
        "pl-mfa;PL;Ministry of Foreign Affairs;Ministerstwo Spraw Zagranicznych;pl-PL;"
        "al. J. Ch. Szucha 23;00-580;Warszawa;eu mfa",
        "ca-gac;CA;Global Affairs Canada;;en-CA fr-CA;125 Sussex Drive;K1A 0G2;Ottawa;partner",
    ]
    data = "\ufeff" + "\r\n".join(rows) + "\r\n"
    (mini_campaign / "recipients" / "list.csv").write_bytes(data.encode("utf-8"))
    out = tmp_path / "out"
    summary = render(open_campaign(mini_campaign), RenderOptions(out=out, today=FIXED_DATE))
    assert [e.recipient for e in summary.letters] == ["pl-mfa", "ca-gac"]
    text = pdf_text(out / "pl-mfa.en.pdf")
    # Every name in the letter's language, the address too (the Polish name
    # is printed by a Polish letter).
    assert "Ministry of Foreign Affairs" in text
    assert "Ministerstwo Spraw Zagranicznych" not in text
    assert "00-580 WARSZAWA" in text
    assert summary.letters[1].paper == "Letter"


def _campaign_with_signers(root: Path, count: int) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60">'
        '<path d="M5 40 C 40 5, 80 55, 120 20 S 200 50, 235 15" stroke="#123" '
        'fill="none" stroke-width="3"/></svg>'
    )
    (root / "signature.svg").write_text(svg, encoding="utf-8")
    lines = ["name,role,organisation"]
    lines += [f"Signer {i:03d},Member,Group {i % 7}" for i in range(count)]
    (root / "cosignatories.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    toml = root / "campaign.toml"
    edit_file(
        toml, '# cosignatories_csv = "cosignatories.csv"', 'cosignatories_csv = "cosignatories.csv"'
    )
    edit_file(toml, '# image = "signature.svg"', 'image = "signature.svg"')
    edit_file(
        toml, '# image_alt = "Signature of Name Surname"', 'image_alt = "Signature of the chair"'
    )


def test_150_cosignatories_flow_in_columns_over_pages(mini_campaign: Path, tmp_path: Path) -> None:
    _campaign_with_signers(mini_campaign, 150)
    out = tmp_path / "out"
    reporter = SilentReporter()
    render(
        open_campaign(mini_campaign),
        RenderOptions(out=out, selectors=["de-mfa"], today=FIXED_DATE),
        reporter,
    )
    pdf_path = out / "de-mfa.en.pdf"
    text = pdf_text(pdf_path)
    for i in range(150):
        assert f"Signer {i:03d}" in text
    assert "Co-signed by" in text
    with pdfplumber.open(pdf_path) as pdf:
        assert len(pdf.pages) >= 3
        column_starts = set()
        pages_with_signers = 0
        for page in pdf.pages:
            names = [w for w in page.extract_words() if w["text"] == "Signer"]
            pages_with_signers += bool(names)
            column_starts |= {round(w["x0"]) for w in names}
    assert len(column_starts) == 3  # more than 40 names: three columns
    assert pages_with_signers >= 2  # the list flows onto a further page
    # The signature image is embedded as drawn vector paths or an image.
    reader = PdfReader(pdf_path)
    assert reader.pages[0] is not None
    assert not [w for w in reporter.warnings if "PDF:" in w]


def test_signature_image_needs_alt_text(mini_campaign: Path, tmp_path: Path) -> None:
    _campaign_with_signers(mini_campaign, 1)
    toml = mini_campaign / "campaign.toml"
    edit_file(toml, 'image_alt = "Signature of the chair"', "")
    result = run_cli("render", str(mini_campaign), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "'signature.image_alt' is required" in result.stderr


def test_selectors_by_id_country_and_tag(mini_campaign: Path, tmp_path: Path) -> None:
    for selector, expected in [
        ("us-dos", ["us-dos"]),
        ("de", ["de-mfa"]),
        ("tag:partner", ["us-dos"]),
    ]:
        out = tmp_path / selector.replace(":", "_")
        summary = render(
            open_campaign(mini_campaign),
            RenderOptions(out=out, selectors=[selector], formats=["html"]),
        )
        assert [e.recipient for e in summary.letters] == expected


def test_html_format_and_json_summary(mini_campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", str(mini_campaign), "--format", "html", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rendered"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "de-mfa.en.html",
        "manifest.json",
        "us-dos.en.html",
    ]
    html = (out / "de-mfa.en.html").read_text(encoding="utf-8")
    # The letter's language decides every name printed in it, the address too.
    assert '<html lang="en"' in html and "Federal Foreign Office" in html
    assert "Auswärtiges Amt" not in html


def test_rerender_subset_keeps_the_manifest_whole(mini_campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    render(open_campaign(mini_campaign), RenderOptions(out=out, formats=["html"]))
    render(
        open_campaign(mini_campaign), RenderOptions(out=out, formats=["html"], selectors=["us-dos"])
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [e["recipient"] for e in manifest["letters"]] == ["de-mfa", "us-dos"]


def test_hand_written_language_template_wins(mini_campaign: Path, tmp_path: Path) -> None:
    (mini_campaign / "templates" / "letter.de.html.j2").write_text(
        '{% extends "advocacy/base.html.j2" %}'
        "{% block close %}Mit freundlichen Grüßen{% endblock %}"
        "{% block body %}<p>Wir schreiben Ihnen wegen der politischen Gefangenen.</p>"
        "{% endblock %}",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = render(open_campaign(mini_campaign), RenderOptions(out=out, today=FIXED_DATE))
    assert [(e.recipient, e.language) for e in summary.letters] == [
        ("de-mfa", "de"),
        ("us-dos", "en"),
    ]
    text = pdf_text(out / "de-mfa.de.pdf")
    assert "10. Dezember 2026" in text  # the date in the letter's language
    assert "Mit freundlichen Grüßen" in text
    assert PdfReader(out / "de-mfa.de.pdf").trailer["/Root"]["/Lang"] == "de"


def test_lang_without_a_template_is_refused(mini_campaign: Path, tmp_path: Path) -> None:
    result = run_cli("render", str(mini_campaign), "--lang", "fr", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "--lang fr: this campaign cannot write that language" in result.stderr
    assert "no locales/fr catalog and no letter.fr.html.j2; available: en" in result.stderr


@pytest.mark.parametrize(
    ("variant", "tagged", "pdfa"), [("none", False, False), ("pdf/a-3b", False, True)]
)
def test_pdf_variants(
    mini_campaign: Path, tmp_path: Path, variant: str, tagged: bool, pdfa: bool
) -> None:
    out = tmp_path / "out"
    render(
        open_campaign(mini_campaign),
        RenderOptions(out=out, selectors=["us-dos"], pdf_variant=variant),
    )
    reader = PdfReader(out / "us-dos.en.pdf")
    root = reader.trailer["/Root"]
    assert ("/StructTreeRoot" in root) is tagged
    xmp = root["/Metadata"].get_object().get_data().decode() if "/Metadata" in root else ""
    assert ("pdfaid" in xmp) is pdfa
    assert "Department of State" in normalize(reader.pages[0].extract_text())


def test_belarusian_and_greek_text_use_the_embedded_font(
    mini_campaign: Path, tmp_path: Path
) -> None:
    (mini_campaign / "recipients" / "list.yaml").write_text(
        """\
- id: by-diaspora
  country: LT
  organisation: {be: "Беларуская дыяспара ў Вільні і Коўне"}
  languages: [be]
  address: {street_address: "Вуліца Ўзгорская 1", postal_code: "01100", city: "Vilnius"}
- id: gr-test
  country: GR
  organisation: {el: "Υπουργείο Εξωτερικών"}
  languages: [el-GR]
  address: {street_address: "Βασιλίσσης Σοφίας 1", postal_code: "106 71", city: "Αθήνα"}
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    reporter = SilentReporter()
    render(open_campaign(mini_campaign), RenderOptions(out=out, today=FIXED_DATE), reporter)
    assert "Беларуская дыяспара ў Вільні і Коўне" in pdf_text(out / "by-diaspora.en.pdf")
    assert "Вуліца Ўзгорская 1" in pdf_text(out / "by-diaspora.en.pdf")
    assert "ΑΘΗΝΑ" in pdf_text(out / "gr-test.en.pdf")  # capitals without accents
    for name in ("by-diaspora.en.pdf", "gr-test.en.pdf"):
        for page in PdfReader(out / name).pages:
            for font in page["/Resources"]["/Font"].values():
                assert "Advocacy-Serif" in str(font.get_object()["/BaseFont"])
    assert not [w for w in reporter.warnings if "PDF:" in w]


def test_accessibility_problems_are_reported(mini_campaign: Path, tmp_path: Path) -> None:
    (mini_campaign / "templates" / "letter.html.j2").write_text(
        '{% extends "advocacy/base.html.j2" %}{% block body %}'
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 '
        'width=%2210%22 height=%2210%22/%3E">{% endblock %}',
        encoding="utf-8",
    )
    reporter = SilentReporter()
    render(
        open_campaign(mini_campaign),
        RenderOptions(out=tmp_path / "o", selectors=["de-mfa"]),
        reporter,
    )
    assert [w for w in reporter.warnings if "PDF:" in w and "alt" in w]
