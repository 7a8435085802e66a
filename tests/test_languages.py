"""Letters in every recipient's language, read back against the catalogs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from babel.dates import format_date
from pypdf import PdfReader

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.model import load_campaign
from advocacy.campaign.translations import required_ids
from advocacy.i18n import catalogs
from advocacy.letter import protocol
from advocacy.render.batch import RenderOptions, SilentReporter, render
from conftest import FIXED_DATE, REPO, edit_file, normalize, pdf_text, replaced, run_cli

LANGUAGES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv be".split()
EU_OFFICIAL = [lang for lang in LANGUAGES if lang != "be"]


@pytest.fixture(scope="module")
def bundled_catalogs() -> dict[str, catalogs.CatalogInfo]:
    campaign = load_campaign(REPO)
    return catalogs.load_all(REPO, required_ids(campaign))


def test_all_24_official_languages_and_belarusian_are_bundled(
    bundled_catalogs: dict[str, catalogs.CatalogInfo],
) -> None:
    assert len(EU_OFFICIAL) == 24
    assert sorted(bundled_catalogs) == sorted(lang for lang in LANGUAGES if lang != "en")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalog_is_complete_and_keeps_placeholders(
    language: str, bundled_catalogs: dict[str, catalogs.CatalogInfo]
) -> None:
    info = bundled_catalogs[language]
    assert info.missing == set(), sorted(info.missing)
    assert info.fuzzy == set()
    # load() already refuses a broken placeholder; check it independently too.
    for msgid, msgstr in info.messages.items():
        for placeholder in catalogs._PLACEHOLDER.findall(msgid):
            assert msgstr.count(placeholder) == msgid.count(placeholder), (msgid, msgstr)
    # Said honestly: every bundled translation is machine-drafted until reviewed.
    assert info.review == "machine-drafted"
    assert "MACHINE-DRAFTED" in info.path.read_text(encoding="utf-8")


def _expected(language: str, infos: dict[str, catalogs.CatalogInfo]) -> dict[str, object]:
    import tomllib

    campaign = tomllib.loads((REPO / "campaign.toml").read_text(encoding="utf-8"))

    def tr(text: str) -> str:
        return infos[language].gettext(text) if language in infos else text

    def named(text: str) -> str:  # a demand names people from the names table
        for key, name in campaign["names"].items():
            text = text.replace("{{ names." + key + " }}", tr(name))
        return text

    (recipient,) = [r for r in load_campaign(REPO).recipients if r.id == "de-mfa"]
    courtesy = protocol.courtesy(recipient, language, forms=protocol.table(REPO))
    return {
        "demands": [named(tr(d["text"])) for d in campaign["demands"]],
        "salutation": courtesy.salutation,
        "close": courtesy.close,
        "lead": tr("In line with the resolution, we respectfully ask you to:"),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_letter_in_each_language_reads_back(
    language: str, bundled_catalogs: dict[str, catalogs.CatalogInfo], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    reporter = SilentReporter()
    summary = render(
        open_campaign(REPO),
        RenderOptions(out=out, selectors=["de-mfa"], language=language, today=FIXED_DATE),
        reporter,
    )
    (letter,) = summary.letters
    assert letter.language == language
    path = out / f"de-mfa.{language}.pdf"
    text = pdf_text(path)
    expected = _expected(language, bundled_catalogs)
    assert normalize(letter.subject) in text
    if language != "en":
        english_subject = "Political prisoners in Belarus"
        assert english_subject not in letter.subject
    assert normalize(format_date(FIXED_DATE, "long", locale=letter.locale)) in text
    for key in ("salutation", "close", "lead"):
        assert normalize(str(expected[key])) in text, (key, expected[key])
    for demand in expected["demands"]:  # type: ignore[attr-defined]
        assert normalize(demand) in text, demand
    assert PdfReader(path).trailer["/Root"]["/Lang"] == language
    assert letter.review == {language: "source" if language == "en" else "machine-drafted"}
    if language != "en":
        assert f"machine-drafted translations: 1 language(s) ({language})" in "".join(
            reporter.warnings
        )


@pytest.mark.parametrize("language", ["el", "bg", "be"])
def test_non_latin_letters_use_only_the_embedded_font(language: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    render(open_campaign(REPO), RenderOptions(out=out, selectors=["cy-mfa"], language=language))
    path = out / f"cy-mfa.{language}.pdf"
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            assert "Advocacy-Serif" in str(font.get_object()["/BaseFont"])
    with pdfplumber.open(path) as pdf:
        chars = [c["text"] for page in pdf.pages for c in page.chars]
    assert "\ufffd" not in chars and "\u25a1" not in chars  # no replacement or box glyphs
    letters = [c for c in chars if c.isalpha()]
    cyrillic_or_greek = [c for c in letters if "\u0370" <= c <= "\u04ff"]
    assert len(cyrillic_or_greek) > len(letters) / 2


def _mini_with_languages(mini: Path, entries: str) -> None:
    shutil.rmtree(mini / "templates")
    shutil.copytree(REPO / "templates", mini / "templates")
    shutil.copytree(REPO / "locales", mini / "locales")
    (mini / "recipients" / "list.yaml").write_text(entries, encoding="utf-8")


MULTI = """\
- id: lu-mfa
  country: LU
  organisation: {fr: "Ministère des Affaires étrangères et européennes", en: "MFA"}
  languages: [lb-LU, fr-LU, de-LU]
  address: {street_address: "9, rue du Palais de Justice", postal_code: "1841", city: Luxembourg}
  tags: [mfa]
- id: tr-office
  country: CY
  organisation: "Office"
  languages: [tr-CY]
  address: {street_address: "Street 1", postal_code: "1000", city: Lefkosa}
- id: be-mfa
  country: BE
  organisation: {nl: "FOD Buitenlandse Zaken", fr: "SPF Affaires étrangères", en: "FPS"}
  languages: [nl-BE, fr-BE]
  address: {street_address: "Karmelietenstraat 15", postal_code: "1000", city: Brussel}
  tags: [mfa]
"""


def test_recipient_language_policy_and_fallback_report(mini_campaign: Path, tmp_path: Path) -> None:
    _mini_with_languages(mini_campaign, MULTI)
    out = tmp_path / "out"
    result = run_cli("render", str(mini_campaign), "--out", str(out), "--format", "html")
    assert result.returncode == 0, result.stderr
    manifest = {
        e["recipient"]: e for e in json.loads((out / "manifest.json").read_text())["letters"]
    }
    assert manifest["lu-mfa"]["language"] == "fr"  # lb has no catalog: next listed language
    assert manifest["lu-mfa"]["fell_back_from"] == "lb"
    assert manifest["tr-office"]["language"] == "en"  # no Turkish catalog: the fallback
    assert manifest["be-mfa"]["language"] == "nl"  # the first of several official languages
    assert manifest["be-mfa"]["fell_back_from"] is None
    line = next(
        line
        for line in result.stderr.splitlines()
        if "not in the recipient's first language" in line
    )
    assert "lu-mfa (lb -> fr)" in line and "tr-office (tr -> en)" in line
    assert "be-mfa" not in line
    # One machine-drafted warning per run, naming the languages.
    drafted = [line for line in result.stderr.splitlines() if "machine-drafted" in line]
    assert len(drafted) == 1 and "(fr, nl)" in drafted[0], drafted


def test_bilingual_letter_has_both_languages_in_order(mini_campaign: Path, tmp_path: Path) -> None:
    _mini_with_languages(mini_campaign, MULTI)
    toml = mini_campaign / "campaign.toml"
    edit_file(toml, 'language = "recipient"', 'language = "bilingual"')
    out = tmp_path / "out"
    render(
        open_campaign(mini_campaign), RenderOptions(out=out, selectors=["be-mfa"], today=FIXED_DATE)
    )
    path = out / "be-mfa.nl+en.pdf"
    with pdfplumber.open(path) as pdf:
        pages = [normalize(page.extract_text() or "") for page in pdf.pages]
    dutch = normalize(protocol.table(mini_campaign)["nl"]["close"])
    english = "Yours sincerely,"
    first_nl = next(i for i, text in enumerate(pages) if dutch in text)
    first_en = next(i for i, text in enumerate(pages) if english in text)
    assert first_nl < first_en
    assert "version in english" in " ".join(pages).lower()  # CSS sets it in capitals
    assert "10 december 2026" in pages[0] and "10 December 2026" in " ".join(pages[first_en - 1 :])


def test_lang_option_overrides_the_policy(mini_campaign: Path, tmp_path: Path) -> None:
    _mini_with_languages(mini_campaign, MULTI)
    out = tmp_path / "out"
    result = run_cli(
        "render", str(mini_campaign), "--lang", "en", "--out", str(out), "--format", "html"
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("*.html")) == [
        "be-mfa.en.html",
        "lu-mfa.en.html",
        "tr-office.en.html",
    ]


def _break_catalog(root: Path, language: str, old: str, new: str) -> None:
    """Change one translation (msgstr), never the source string."""
    from babel.messages.pofile import read_po, write_po

    path = catalogs.po_path(root, language)
    with path.open("rb") as handle:
        catalog = read_po(handle)
    hits = [m for m in catalog if m.id and isinstance(m.string, str) and old in m.string]
    assert hits, old
    hits[0].string = hits[0].string.replace(old, new, 1)
    with path.open("wb") as handle:
        write_po(handle, catalog)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("%(days)s", "%(tage)s", ["drops %(days)s", "adds %(tage)s"]),
        ('<span class="resolution-title">', "<span>", ["changes the markup"]),
        ("</span>", "</b>", ["changes the markup"]),
    ],
)
def test_broken_translation_is_a_compile_error(
    mini_campaign: Path, tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    _mini_with_languages(mini_campaign, MULTI)
    _break_catalog(mini_campaign, "nl", old, new)
    result = run_cli("translations", "compile", str(mini_campaign))
    assert result.returncode == 2
    assert "locales/nl/LC_MESSAGES/messages.po: message" in result.stderr
    assert "nl translation" in result.stderr
    for part in expected:
        assert part in result.stderr
    out = tmp_path / "out"
    result = run_cli("render", str(mini_campaign), "--out", str(out))
    assert result.returncode == 2 and "nl translation" in result.stderr
    # The Dutch letters fail, alone: a volunteer's catalog does not stop the others.
    written = sorted(p.name for p in out.glob("*.pdf"))
    assert written and not [name for name in written if ".nl." in name], written


def test_translations_status_and_tools(mini_campaign: Path) -> None:
    _mini_with_languages(mini_campaign, MULTI)
    result = run_cli("translations", "status", str(mini_campaign), "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["language"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == sorted(LANGUAGES)
    total = rows["en"]["total"]
    assert all(row["translated"] == total and row["complete"] for row in rows.values())
    assert rows["de"]["review"] == "machine-drafted" and rows["en"]["review"] == "source"

    # A new sentence in the template: extract, update, and the catalogs are incomplete.
    letter = mini_campaign / "templates" / "letter.html.j2"
    edit_file(
        letter,
        "{% endblock %}",
        "<p>{% trans %}A brand new sentence.{% endtrans %}</p>{% endblock %}",
    )
    assert run_cli("translations", "extract", str(mini_campaign)).returncode == 0
    assert "A brand new sentence." in (mini_campaign / "locales" / "messages.pot").read_text()
    result = run_cli("translations", "update", str(mini_campaign), "--lang", "tr")
    assert result.returncode == 0, result.stderr
    assert "A brand new sentence." in catalogs.po_path(mini_campaign, "de").read_text()
    assert catalogs.po_path(mini_campaign, "tr").is_file()
    rows = {
        r["language"]: r
        for r in json.loads(run_cli("translations", "status", str(mini_campaign), "--json").stdout)
    }
    assert rows["de"]["translated"] == rows["de"]["total"] - 1 and not rows["de"]["complete"]
    assert rows["tr"]["translated"] == 0
    # An incomplete catalog is not used: the letter is not made, or (when allowed)
    # falls back.
    out = mini_campaign / "out"
    opened = open_campaign(mini_campaign)
    summary = render(opened, RenderOptions(out=out, formats=["html"], selectors=["be-mfa"]))
    assert summary.letters == [] and [f.recipient for f in summary.failed] == ["be-mfa"]
    summary = render(
        opened,
        RenderOptions(out=out, formats=["html"], selectors=["be-mfa"], allow_fallback=True),
    )
    assert summary.letters[0].language == "en"
    result = run_cli("translations", "compile", str(mini_campaign))
    assert result.returncode == 0, result.stderr
    assert catalogs.po_path(mini_campaign, "de").with_suffix(".mo").is_file()


def test_recipient_salutation_overrides_the_forms_of_address(
    mini_campaign: Path, tmp_path: Path
) -> None:
    _mini_with_languages(
        mini_campaign,
        replaced(
            MULTI,
            "  tags: [mfa]\n",
            '  tags: [mfa]\n  salutation: {nl: "Geachte heer Prévot,"}\n',
            2,
        ),
    )
    out = tmp_path / "out"
    render(open_campaign(mini_campaign), RenderOptions(out=out, selectors=["be-mfa"]))
    assert "Geachte heer Prévot," in pdf_text(out / "be-mfa.nl.pdf")


def test_translations_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "advocacy", "translations", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for command in ("status", "extract", "update", "compile"):
        assert command in result.stdout


def test_one_composer_serves_several_threads_alike() -> None:
    """Composing changes no shared state: letters in many languages composed at once
    from 8 threads are the letters composed one after another (the preview does this)."""
    from concurrent.futures import ThreadPoolExecutor

    from advocacy.campaign.discovery import open_campaign
    from advocacy.letter.compose import Composer

    campaign = open_campaign(REPO)
    recipients = list(campaign.recipients) * 3
    alone = [Composer(campaign, today=FIXED_DATE).compose(r).html for r in recipients]
    shared = Composer(campaign, today=FIXED_DATE)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda r: shared.compose(r).html, recipients))
    assert len({r.primary_language for r in campaign.recipients}) > 10
    assert together == alone
