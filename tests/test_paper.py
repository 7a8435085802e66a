"""Every letter right on paper, read back from the PDFs with pdfplumber: addresses
inside their windows or failed by name, no text on a fold, DIN 5008 B alignment,
one-line page footers, no date, postcode or URL broken inside itself, and no
letter without an address that looks ready to post."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pdfplumber
import pytest
from babel.dates import format_date

from advocacy.campaign.discovery import open_campaign
from advocacy.letter.address import address_lines, country_line
from advocacy.render.batch import RenderOptions, RenderSummary, SilentReporter, render
from conftest import FIXED_DATE, REPO, bundled_toml, replaced, run_cli

MM = 72 / 25.4
INCH = 72.0
TOL = 0.5  # pt
# The recipient's zone: A4 DIN 5008 B below the 17.7 mm zone (text from 25 mm to
# the field's edge at 105 mm); Letter: the No. 10 window less its 1/8 in margin.
# (left, top, right, bottom) in pt from the page's top-left corner.
A4_ZONE = (20 * MM, 62.7 * MM, 105 * MM, 90 * MM)
LETTER_ZONE = (0.8125 * INCH, 2.3125 * INCH, 5.0625 * INCH, 3.1875 * INCH)
FOLDS = {"A4": (105 * MM, 210 * MM), "Letter": (11 / 3 * INCH, 22 / 3 * INCH)}

HOSTILE = """\
- id: nine-lines
  country: DE
  addressee: "Referat 603 – Menschenrechte und humanitäre Hilfe"
  organisation: "Bundesministerium für wirtschaftliche Zusammenarbeit und Entwicklung"
  name: "Dr. Erika Mustermann-Schulze"
  languages: [de-DE]
  address:
    street_address: |-
      Gebäude A, Aufgang 3, Zimmer 4.117 (Poststelle)
      Postfach-Sammelstelle Nord, Eingang Wilhelmstraße
      Hinterhof, Lieferanteneingang über die Zufahrt
      Etage 7
    postal_code: "10963"
    city: Berlin
  confidence: high
- id: long-org
  country: DE
  organisation: >-
    Bundesamt für die wirtschaftliche Zusammenarbeit, die Entwicklung und die
    internationale Menschenrechtspolitik
  languages: [de-DE]
  address: {street_address: "Stresemannstraße 94", postal_code: "10963", city: Berlin}
  confidence: high
- id: three-streets
  country: NL
  organisation: Ministerie van Buitenlandse Zaken
  languages: [nl-NL]
  address:
    street_address: "Directie Mensenrechten\\nRijnstraat 8\\nGebouw Noord"
    postal_code: "2515 XP"
    city: Den Haag
  confidence: high
- id: gr-long
  country: GR
  organisation: >-
    Υπουργείο Εξωτερικών της Ελληνικής Δημοκρατίας,
    Γενική Διεύθυνση Ευρωπαϊκών Υποθέσεων
  languages: [el-GR]
  address: {street_address: "Βασιλίσσης Σοφίας 1", postal_code: "106 71", city: Αθήνα}
  confidence: high
- id: de-bmz
  country: DE
  organisation: "Bundesministerium für wirtschaftliche Zusammenarbeit und Entwicklung"
  languages: [de-DE]
  address: {street_address: "Stresemannstraße 94", postal_code: "10963", city: Berlin}
  confidence: high
- id: ie-two
  country: IE
  organisation: "An Roinn Gnóthaí Eachtracha / Department of Foreign Affairs"
  languages: [ga-IE, en-IE]
  address: {street_address: "80 St Stephen's Green", postal_code: "D02 VY53", city: "Dublin 2"}
  confidence: high
- id: ca-fr
  country: CA
  addressee: "Ministre des Affaires étrangères"
  organisation: "Affaires mondiales Canada"
  languages: [fr-CA]
  address:
    {street_address: "125, promenade Sussex", postal_code: "K1A 0G2", city: Ottawa,
     country_area: "ON"}
  confidence: high
- id: us-zip4
  country: US
  addressee: "Subcommittee on Europe, Energy, the Environment and Cyber"
  organisation: "Committee on Foreign Affairs, U.S. House of Representatives"
  languages: [en-US]
  address:
    street_address: "2170 Rayburn House Office Building"
    city: Washington
    country_area: DC
    postal_code: "20515-6128"
  confidence: high
- id: wide-salutation
  country: DE
  organisation: "Auswärtiges Amt"
  languages: [de-DE]
  salutation:
    de: "Sehr geehrte Frau WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
  address: {street_address: "Werderscher Markt 1", postal_code: "10117", city: Berlin}
  confidence: high
- id: no-address
  country: LT
  organisation: Užsienio reikalų ministerija
  languages: [lt-LT]
  confidence: high
"""


def _campaign(root: Path, recipients: str, toml: str) -> Path:
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(recipients, encoding="utf-8")
    (root / "campaign.toml").write_text(toml, encoding="utf-8")
    return root


def _fail_toml() -> str:
    return replaced(bundled_toml(), 'no_address = "mark"', 'no_address = "fail"')


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RenderSummary]:
    root = _campaign(tmp_path_factory.mktemp("hostile"), HOSTILE, _fail_toml())
    out = root / "letters"
    summary = render(open_campaign(root), RenderOptions(out=out, today=FIXED_DATE))
    return out, summary


def _letters(out: Path) -> dict[str, dict]:
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {entry["recipient"]: entry for entry in data["letters"]}


def _words(pdf_path: Path, page: int = 0) -> tuple[list[dict], float, float]:
    with pdfplumber.open(pdf_path) as pdf:
        p = pdf.pages[page]
        return p.extract_words(), p.width, p.height


def _paper(height: float) -> str:
    return "Letter" if abs(height - 11 * INCH) < 2 else "A4"


def _tokens(text: str) -> list[str]:
    return [t.strip(",") for t in text.replace("\u00a0", " ").split() if t.strip(",")]


def _center_in(word: dict, box: tuple[float, float, float, float]) -> bool:
    x = (word["x0"] + word["x1"]) / 2
    y = (word["top"] + word["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _fully_in(word: dict, box: tuple[float, float, float, float]) -> bool:
    return (
        word["x0"] >= box[0] - TOL
        and word["x1"] <= box[2] + TOL
        and word["top"] >= box[1] - TOL
        and word["bottom"] <= box[3] + TOL
    )


def test_hostile_addresses_fit_their_window_or_fail_alone_by_field(
    hostile: tuple[Path, RenderSummary],
) -> None:
    out, summary = hostile
    campaign = open_campaign(out.parent)
    letters = _letters(out)
    failed = {f.recipient: f.error for f in summary.failed}
    assert set(letters) | set(failed) == {r.id for r in campaign.recipients}
    # The nine-line address cannot fit six lines of 80 mm: it fails, by name and field.
    assert "nine-lines" in failed and "nine-lines" not in letters
    assert re.search(
        r"nine-lines.*address.*shorten (address\.|organisation|addressee)", failed["nine-lines"]
    )
    assert "\n" not in failed["nine-lines"]
    assert not (out / "nine-lines.de.pdf").exists()
    # The others went on, and each has every word of its address inside the window.
    rendered = [r for r in campaign.recipients if r.id in letters]
    assert len(rendered) >= 7
    for recipient in rendered:
        entry = letters[recipient.id]
        words, _, height = _words(out / entry["files"][0]["path"])
        zone = LETTER_ZONE if _paper(height) == "Letter" else A4_ZONE
        inside = [w for w in words if _center_in(w, zone)]
        for word in inside:
            assert _fully_in(word, zone), f"{recipient.id}: {word['text']!r} crosses the window"
        printed = _tokens(" ".join(w["text"] for w in inside))
        expected = _tokens(" ".join(address_lines(recipient)))
        assert printed == expected, f"{recipient.id}: the window shows {printed}"


def test_a_word_too_long_for_the_line_fails_its_letter_naming_the_field(
    hostile: tuple[Path, RenderSummary],
) -> None:
    out, summary = hostile
    (error,) = [f.error for f in summary.failed if f.recipient == "wide-salutation"]
    assert "cannot break" in error and "shorten the salutation" in error
    assert "salutation.<language>" in error and "\n" not in error
    assert not list(out.glob("wide-salutation.*"))
    # Every word of every letter written lies on the paper, inside its margins.
    for entry in _letters(out).values():
        path = out / entry["files"][0]["path"]
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                for word in page.extract_words():
                    assert word["x1"] <= page.width - 10 * MM, (path.name, word["text"])


def test_a_word_too_long_is_named_by_its_field_when_the_template_wraps_it(
    tmp_path: Path,
) -> None:
    """The class naming the field may sit on an ancestor of the text's own element."""
    start = HOSTILE.index("- id: wide-salutation")
    root = _campaign(
        tmp_path / "c", HOSTILE[start : HOSTILE.index("- id: no-address")], _fail_toml()
    )
    letter = root / "templates" / "letter.html.j2"
    wrapped = (
        '{% block salutation %}<span class="name">{{ letter.salutation }}</span>{% endblock %}'
    )
    letter.write_text(letter.read_text(encoding="utf-8") + "\n" + wrapped + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("render", str(root), "--out", str(out))
    assert result.returncode != 0
    line = next(x for x in result.stderr.splitlines() if x.startswith("failed: wide-salutation"))
    assert "cannot break" in line and "shorten the salutation" in line, line
    assert "Traceback" not in result.stderr
    assert not list(out.glob("wide-salutation.*"))


def test_ca_french_and_zip4_addresses_keep_their_postcodes_whole(
    hostile: tuple[Path, RenderSummary],
) -> None:
    out, _ = hostile
    letters = _letters(out)
    for rid, code in (("ca-fr", "K1A 0G2"), ("us-zip4", "20515-6128"), ("ie-two", "D02 VY53")):
        words, _, _ = _words(out / letters[rid]["files"][0]["path"])
        lines: dict[int, list[str]] = {}
        for w in words:
            lines.setdefault(round(w["top"]), []).append(w["text"])
        assert any(code in " ".join(line) for line in lines.values()), rid


def test_a_letter_without_an_address_fails_by_default_naming_the_field(
    hostile: tuple[Path, RenderSummary],
) -> None:
    out, summary = hostile
    (error,) = [f.error for f in summary.failed if f.recipient == "no-address"]
    assert "no-address" in error and "street_address" in error
    assert "--allow-no-address" in error
    assert not list(out.glob("no-address.*"))


def test_allow_no_address_marks_the_window_and_lists_it_first(tmp_path: Path) -> None:
    recipients = HOSTILE[HOSTILE.index("- id: de-bmz") : HOSTILE.index("- id: ie-two")]
    recipients += HOSTILE[HOSTILE.index("- id: no-address") :]
    root = _campaign(tmp_path / "c", recipients, _fail_toml())
    out = tmp_path / "out"
    result = run_cli("render", str(root), "--out", str(out), "--allow-no-address")
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [e["recipient"] for e in data["letters"]] == ["no-address", "de-bmz"]
    assert data["letters"][0]["address_block"] is False
    words, _, _ = _words(out / data["letters"][0]["files"][0]["path"])
    window = (20 * MM, 45 * MM, 105 * MM, 90 * MM)
    mark = " ".join(w["text"] for w in words if _center_in(w, window))
    assert "ADDRESS MISSING" in mark and "do not post" in mark
    words, _, _ = _words(out / data["letters"][1]["files"][0]["path"])
    assert "MISSING" not in " ".join(w["text"] for w in words)


# -- the bundled letters, with co-signatories so that every one has a page 2 ----------

COSIGNERS = "".join(
    f'\n[[cosignatories]]\nname = "Person Number {i}"\nrole = "Member"\n'
    f'organisation = "Group {i}"\n'
    for i in range(12)
)
BELARUSIAN = """
- id: by-diaspora
  country: LT
  organisation: {en: Office of Belarusian Democratic Forces, be: Офіс дэмакратычных сіл Беларусі}
  languages: [be]
  address: {street_address: "Gedimino pr. 1", postal_code: "01103", city: Vilnius}
  confidence: high
"""


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RenderSummary]:
    root = tmp_path_factory.mktemp("bundled")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    shutil.copytree(REPO / "recipients", root / "recipients")
    (root / "recipients" / "by.yaml").write_text(BELARUSIAN, encoding="utf-8")
    (root / "campaign.toml").write_text(bundled_toml() + COSIGNERS, encoding="utf-8")
    out = root / "letters"
    summary = render(
        open_campaign(root), RenderOptions(out=out, today=FIXED_DATE), SilentReporter()
    )
    assert not summary.failed, summary.failed
    return out, summary


def test_every_bundled_language_is_rendered(bundled: tuple[Path, RenderSummary]) -> None:
    out, _ = bundled
    languages = {e["language"] for e in _letters(out).values()}
    catalogs = {p.name for p in (REPO / "locales").iterdir() if p.is_dir()}
    assert catalogs | {"en"} <= languages


def test_no_text_on_a_fold_line_on_a4_or_letter(bundled: tuple[Path, RenderSummary]) -> None:
    out, _ = bundled
    papers = set()
    for entry in _letters(out).values():
        words, _, height = _words(out / entry["files"][0]["path"])
        paper = _paper(height)
        papers.add(paper)
        for fold in FOLDS[paper]:
            on_fold = [w["text"] for w in words if w["top"] < fold - 0.1 < fold + 0.1 < w["bottom"]]
            assert not on_fold, f"{entry['recipient']}: {on_fold} on the fold at {fold / MM:.0f} mm"
    assert papers == {"A4", "Letter"}


def test_address_and_body_share_the_25_mm_line(bundled: tuple[Path, RenderSummary]) -> None:
    out, _ = bundled
    checked = 0
    for entry in _letters(out).values():
        if not entry["address_block"]:
            continue
        words, _, height = _words(out / entry["files"][0]["path"])
        zone = LETTER_ZONE if _paper(height) == "Letter" else A4_ZONE
        address = [w for w in words if _center_in(w, zone)]
        body = [w for w in words if w["top"] > 115 * MM]
        assert address, entry["recipient"]
        assert abs(min(w["x0"] for w in address) - 25 * MM) <= 0.5 * MM, entry["recipient"]
        assert abs(min(w["x0"] for w in body) - 25 * MM) <= 0.5 * MM, entry["recipient"]
        if _paper(height) == "A4":
            # The recipient's first line sits below the 17.7 mm zone (45 + 17.7 mm).
            assert min(w["top"] for w in address) >= 62.7 * MM - TOL
            ret = [w for w in words if w["top"] >= 45 * MM and w["bottom"] <= 50 * MM + TOL]
            assert ret and min(w["x0"] for w in ret) >= 25 * MM - TOL
            assert max(w["x1"] for w in ret) <= 105 * MM + TOL  # whole, not cut off
        checked += 1
    assert checked >= 25


def test_page_footers_fit_on_one_line_in_every_language(
    bundled: tuple[Path, RenderSummary],
) -> None:
    out, _ = bundled
    for entry in _letters(out).values():
        with pdfplumber.open(out / entry["files"][0]["path"]) as pdf:
            assert len(pdf.pages) >= 2, entry["recipient"]
            for number, page in enumerate(pdf.pages[1:], start=2):
                footer = [w for w in page.extract_words() if w["top"] > page.height - 22 * MM]
                right = [w for w in footer if w["x0"] > page.width - 20 * MM - 45 * MM]
                assert len({round(w["top"]) for w in right}) == 1, (entry["recipient"], right)
                text = " ".join(w["text"] for w in right)
                assert str(number) in text and str(len(pdf.pages)) in text
                assert all(w["x1"] <= page.width - 20 * MM + TOL for w in footer)
                left = [w for w in footer if w not in right]
                assert len({round(w["top"]) for w in left}) <= 2


def _unbroken(text: str, phrase: str, may_break_after: str = "") -> int:
    """How often `phrase` occurs in `text` (its lines joined by \\n), broken or not;
    fails when an occurrence breaks other than after a character of
    `may_break_after` (a hyphen before the break, its own or added, is no such one)."""
    phrase = re.sub(r"[\u00a0\u202f\u2009]", " ", phrase)
    text = re.sub(r"[\u00a0\u202f\u2009]", " ", text)
    pattern = "(?:-?\n)?".join("[ \n]" if ch == " " else re.escape(ch) for ch in phrase)
    found = 0
    for match in re.finditer(rf"(?<!\w){pattern}(?!\w)", text):
        seen = match.group(0)
        for i, ch in enumerate(seen):
            assert ch != "\n" or seen[i - 1] in may_break_after, f"{phrase!r} as {seen!r}"
        found += 1
    return found


def test_no_date_postcode_or_url_broken_inside_itself(
    bundled: tuple[Path, RenderSummary],
) -> None:
    out, _ = bundled
    campaign = open_campaign(out.parent)
    recipients = {r.id: r for r in campaign.recipients}
    urls = campaign.config.resolution.url
    for entry in _letters(out).values():
        url = urls if isinstance(urls, str) else urls.get(entry["language"], urls["en"])
        with pdfplumber.open(out / entry["files"][0]["path"]) as pdf:
            text = "\n".join(p.extract_text() or "" for p in pdf.pages).replace("\u00a0", " ")
        rid = entry["recipient"]
        # sl, et and lv write a date inside a sentence as numbers (CLDR has only the
        # nominative month there), so their resolution date is not in the long form.
        numeric = entry["language"] in ("sl", "et", "lv")
        days = (FIXED_DATE,) if numeric else (FIXED_DATE, campaign.config.resolution.date)
        for day in days:
            date = format_date(day, format="long", locale=entry["locale"])
            assert _unbroken(text, date) >= 1, (rid, date)
        assert _unbroken(text, url, may_break_after="/") == 1, rid
        code = recipients[rid].address.postal_code
        if code and entry["address_block"]:
            assert _unbroken(text, code) >= 1, (rid, code)


def test_country_line_is_left_out_at_home_and_in_the_senders_language() -> None:
    assert country_line("DE", "DE") == ""
    assert country_line("CZ", "") == "CZECHIA"
    assert country_line("HU", "") == "HUNGARY"
    assert country_line("BG", "") == "BULGARIA"
    assert country_line("CZ", "DE") == "TSCHECHIEN"
    assert country_line("DE", "GR") == "ΓΕΡΜΑΝΙΑ"
