"""Letters a ministry takes seriously: forms of address, names, numbers, one language.

Composed without PDF where the point is the text (letter/compose.py); read back
from the PDF where the point is the printed page (the footer).
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.model import Campaign, load_campaign
from advocacy.campaign.recipients import AddresseePerson, Recipient
from advocacy.campaign.translations import required_ids
from advocacy.errors import BadInput
from advocacy.i18n import catalogs
from advocacy.letter import protocol
from advocacy.letter.compose import Composer, Letter
from advocacy.render.batch import RenderOptions, render
from conftest import FIXED_DATE, REPO, normalize

LANGUAGES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv be".split()
LOWER_AFTER_COMMA = {"de", "cs", "sk"}


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return open_campaign(REPO)


@pytest.fixture(scope="module")
def composer(campaign: Campaign) -> Composer:
    return Composer(campaign, today=FIXED_DATE)


def recipient(campaign: Campaign, rid: str, **changes: object) -> Recipient:
    found = next(r for r in campaign.recipients if r.id == rid)
    return found.model_copy(update=changes)


def _text(html: str) -> str:
    # <wbr> marks where a URL may break on paper: it joins, it does not separate.
    joined = re.sub(r"<wbr\s*/?>|</?span[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", joined).split())


def salutation_and_body(letter: Letter) -> tuple[str, str]:
    """The salutation and the text of the paragraph that follows it."""
    found = re.search(r'class="salutation">(.*?)</p>\s*<p>(.*?)</p>', letter.html, re.S)
    assert found, letter.recipient_id
    return _text(found.group(1)), _text(found.group(2))


def close_of(letter: Letter) -> str:
    found = re.search(r'class="close">(.*?)</p>', letter.html, re.S)
    assert found
    return _text(found.group(1)).replace("&#39;", "'")


@pytest.fixture(scope="module")
def bundled_letters(campaign: Campaign, composer: Composer) -> list[Letter]:
    """Every bundled letter, and de-mfa's letter in every bundled language."""
    letters = [composer.compose(r) for r in campaign.recipients]
    de_mfa = recipient(campaign, "de-mfa")
    for language in LANGUAGES:
        letters.append(Composer(campaign, today=FIXED_DATE, language=language).compose(de_mfa))
    return letters


# -- the body after the salutation -------------------------------------------------


def test_german_czech_slovak_bodies_go_on_in_lower_case_after_the_comma(
    bundled_letters: list[Letter],
) -> None:
    seen = set()
    for letter in bundled_letters:
        salutation, body = salutation_and_body(letter)
        if letter.language in LOWER_AFTER_COMMA:
            assert salutation.endswith(","), salutation
            assert body[0].islower(), (letter.recipient_id, letter.language, body[:40])
            seen.add(letter.language)
        else:
            assert body[0].isupper(), (letter.recipient_id, letter.language, body[:40])
    assert seen == LOWER_AFTER_COMMA
    austrian = next(x for x in bundled_letters if x.recipient_id == "at-mfa")
    assert salutation_and_body(austrian)[1].startswith("im Namen")


def test_a_salutation_ending_otherwise_gives_a_capital(
    campaign: Campaign, composer: Composer
) -> None:
    """The salutation decides: after "!" the German body starts with a capital."""
    letter = composer.compose(
        recipient(campaign, "at-mfa", salutation={"de": "Sehr geehrte Frau Bundesministerin!"})
    )
    salutation, body = salutation_and_body(letter)
    assert salutation == "Sehr geehrte Frau Bundesministerin!"
    assert body.startswith("Im Namen")


# -- salutation and close ---------------------------------------------------------


def test_french_close_carries_the_salutations_appellation(
    campaign: Campaign, composer: Composer
) -> None:
    letter = composer.compose(recipient(campaign, "fr-mfa"))
    assert salutation_and_body(letter)[0] == "Madame la Ministre, Monsieur le Ministre,"
    assert close_of(letter) == (
        "Nous vous prions d'agréer, Madame la Ministre, Monsieur le Ministre, "
        "l'expression de notre très haute considération."
    )
    named = composer.compose(
        recipient(campaign, "fr-mfa", addressee_person=AddresseePerson(form="female"))
    )
    assert salutation_and_body(named)[0] == "Madame la Ministre,"
    assert close_of(named) == (
        "Nous vous prions d'agréer, Madame la Ministre, "
        "l'expression de notre très haute considération."
    )


def test_us_letter_is_american(campaign: Campaign, composer: Composer) -> None:
    letter = composer.compose(recipient(campaign, "us-dos"))
    salutation = salutation_and_body(letter)[0]
    assert re.fullmatch(r"Dear (Mr\.|Madam|Mr\. or Madam) Secretary:", salutation), salutation
    assert close_of(letter) == "Sincerely,"
    for form, expected in (("male", "Dear Mr. Secretary:"), ("female", "Dear Madam Secretary:")):
        named = composer.compose(
            recipient(campaign, "us-dos", addressee_person=AddresseePerson(form=form))
        )
        assert salutation_and_body(named)[0] == expected
    # A British letter keeps British usage.
    british = composer.compose(recipient(campaign, "gb-fcdo"))
    assert close_of(british) == "Yours sincerely,"


def test_no_form_letter_slashes_in_any_salutation(bundled_letters: list[Letter]) -> None:
    """'Tisztelt Miniszter Asszony/Úr!' reads like a form to fill in."""
    for letter in bundled_letters:
        salutation = salutation_and_body(letter)[0]
        assert "/" not in salutation, (letter.recipient_id, salutation)
    hungarian = next(x for x in bundled_letters if x.recipient_id == "hu-mfa")
    assert salutation_and_body(hungarian)[0].startswith("Tisztelt Miniszter Asszony")


def test_every_catalog_language_has_its_forms_of_address() -> None:
    forms = protocol.table(REPO)
    for language in [*catalogs.languages(REPO), "en"]:
        entries = forms[language]
        assert entries.get("close"), language
        for office in ("minister", "none"):
            assert entries[office]["neutral"], (language, office)


def test_an_unknown_office_is_one_clear_line(campaign: Campaign, composer: Composer) -> None:
    with pytest.raises(BadInput) as caught:
        composer.compose(recipient(campaign, "de-mfa", office="ambassador"))
    message = str(caught.value)
    assert "'de-mfa'" in message and "'office'" in message and "minister" in message
    assert "\n" not in message


# -- numbers, names, links ---------------------------------------------------------


def test_english_letters_to_the_eu_institutions_print_1_500(
    campaign: Campaign, composer: Composer
) -> None:
    institutions = [r for r in campaign.recipients if r.country == "EU"]
    assert institutions
    for entry in institutions:
        letter = composer.compose(entry)
        assert letter.language == "en" and letter.locale.startswith("en_")
        text = _text(letter.html)
        assert "some 1,500 political prisoners" in text, entry.id
        assert "1.500" not in text
    # German keeps its own grouping.
    german = composer.compose(recipient(campaign, "de-mfa"))
    assert "rund 1.500 politischen Gefangenen" in _text(german.html)


def test_lu_mfa_prints_the_french_ministry_name_everywhere(
    campaign: Campaign, tmp_path: Path
) -> None:
    lu = recipient(campaign, "lu-mfa")
    assert isinstance(lu.organisation, dict)
    french, luxembourgish = lu.organisation["fr"], lu.organisation["lb"]
    render(campaign, RenderOptions(out=tmp_path, selectors=["lu-mfa"], today=FIXED_DATE))
    (path,) = tmp_path.glob("lu-mfa.fr*.pdf")
    with pdfplumber.open(path) as pdf:
        pages = [normalize(page.extract_text() or "") for page in pdf.pages]
    assert len(pages) >= 2  # the footer is on page 2
    assert all(luxembourgish not in page for page in pages)
    # (Its address is unverified, so its window carries the ADDRESS MISSING mark.)
    assert pages[-1].count(french) >= 1  # the footer


def _names(campaign: Campaign, language: str) -> dict[str, str]:
    info = catalogs.load_all(REPO, required_ids(campaign)).get(language)
    return {k: info.gettext(v) if info else v for k, v in campaign.config.names.items()}


def test_one_spelling_per_prisoner_in_each_letter(
    campaign: Campaign, bundled_letters: list[Letter]
) -> None:
    assert campaign.config.names  # the table exists
    tables = {lang: _names(campaign, lang) for lang in {x.language for x in bundled_letters}}
    for letter in bundled_letters:
        title = re.search(r'<span class="resolution-title">(.*?)</span>', letter.html, re.S)
        assert title, letter.recipient_id  # the quoted title is marked as the title
        text = _text(letter.html.replace(title.group(0), " "))
        words = re.findall(r"\w+", text)
        for key, form in tables[letter.language].items():
            assert form in text, (letter.recipient_id, letter.language, key, form)
            surname = form.split()[-1]
            if len(surname) < 6:  # too short to tell a variant from a word ("znak")
                continue
            variants = {w for w in words if w[:5].lower() == surname[:5].lower()}
            assert variants == {surname}, (letter.recipient_id, letter.language, variants)


def test_quoted_title_keeps_its_own_spelling(composer: Composer, campaign: Campaign) -> None:
    letter = composer.compose(recipient(campaign, "gb-fcdo"))
    title = re.search(r'<span class="resolution-title">(.*?)</span>', letter.html, re.S)
    assert title and "Mikola Statkevich" in title.group(1)
    assert "Mikalai Statkevich" in letter.html.replace(title.group(0), "")


def test_the_link_is_called_a_summary_and_french_letters_link_the_french_page(
    campaign: Campaign, composer: Composer
) -> None:
    config = load_campaign(REPO).config
    assert config.resolution and isinstance(config.resolution.url, dict)
    urls = config.resolution.url
    english = _text(composer.compose(recipient(campaign, "gb-fcdo")).html)
    assert f"A summary of the resolution is available at {urls['en']}." in english
    assert "The resolution is available at" not in english
    french = _text(composer.compose(recipient(campaign, "fr-mfa")).html)
    assert urls["fr"] in french and urls["en"] not in french
    assert "/oeil/fr/" in urls["fr"]
    german = _text(composer.compose(recipient(campaign, "de-mfa")).html)
    assert urls["en"] in german  # OEIL has no German page


def test_slovenian_dates_inside_sentences_need_no_month_case(
    campaign: Campaign, composer: Composer
) -> None:
    letter = composer.compose(recipient(campaign, "si-mfa"))
    text = _text(letter.html)
    assert "z dne 14. 12. 2023" in letter.subject and "z dne 14. 12. 2023" in text
    assert "14. december 2023" not in text


# -- catalog lint: each demand continues the lead-in ---------------------------------

_INFINITIVE = {"cs": re.compile(r"(t|ci)$"), "sk": re.compile(r"(ť|cť)$")}


@pytest.mark.parametrize("language", ["cs", "sk"])
def test_czech_and_slovak_demands_are_nouns_after_o_tyto_kroky(language: str) -> None:
    """'žádáme o tyto kroky: 1. požadovat' puts a verb where the lead-in needs a noun."""
    campaign = load_campaign(REPO)
    info = catalogs.load_all(REPO, required_ids(campaign))[language]
    lead = info.gettext("In line with the resolution, we respectfully ask you to:")
    assert re.search(r"\bo\s+t(yto|ieto) kroky:$", lead), lead
    for demand in campaign.config.demands:
        first = info.gettext(demand.text).split()[0]
        assert first.islower(), first
        assert not _INFINITIVE[language].search(first), (language, first)


def test_every_demand_continues_the_lead_in_in_lower_case() -> None:
    """A demand is the end of the lead-in sentence; German excepted (nouns are capitalised)."""
    campaign = load_campaign(REPO)
    for language, info in catalogs.load_all(REPO, required_ids(campaign)).items():
        if language == "de":
            continue
        for demand in campaign.config.demands:
            text = info.gettext(demand.text)
            assert text[:1].islower(), (language, text[:30])
