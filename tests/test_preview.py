"""`advocacy preview` in the terminal: one letter as it will read, and its warnings."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.model import load_campaign
from advocacy.campaign.translations import required_ids
from advocacy.preview.terminal import html_to_blocks, preview_letter
from conftest import FIXED_DATE, run_cli, run_cli_in_one_process

# A hand-written German letter, so the non-English test does not depend on
# the bundled catalogs (which translators are still filling in).
LETTER_DE = """\
{% extends "advocacy/base.html.j2" %}
{% block salutation %}Sehr geehrte Frau Ministerin,{% endblock %}
{% block body %}
<p>wir wenden uns im Namen von {{ sender.organisation }} an Sie.</p>
<ol class="demands">
  <li>Setzen Sie sich für die Freilassung aller politischen Gefangenen ein.</li>
  <li>Unterstützen Sie ihre Familien.</li>
</ol>
{% endblock %}
{% block close %}Mit freundlichen Grüßen{% endblock %}
"""


def _with_german(campaign: Path) -> Path:
    (campaign / "templates" / "letter.de.html.j2").write_text(LETTER_DE, encoding="utf-8")
    return campaign


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_english_letter_for_one_recipient(mini_campaign: Path) -> None:
    result = run_cli("preview", str(mini_campaign), "--to", "us-dos")
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    # The facts first, then the letter in reading order, then the warnings.
    assert lines[:4] == [
        "Recipient  us-dos — U.S. Department of State (US)",
        "Language   en (English, source)",
        "Paper      Letter",
        "Subject    Political prisoners in Belarus: acting on the European Parliament "
        "resolution of December 14, 2023",
    ]
    text = result.stdout
    order = [
        "U.S. Department of State\n2201 C Street NW\nWASHINGTON, DC 20520",
        "December 10, 2026",
        "Dear Secretary of State,",
        "We are writing to you on behalf of",
        "1. Demand, at every opportunity, the immediate and unconditional release",
        "2. Insist that all charges",
        "Sincerely,",  # American usage (protocol.toml [en-US])
        "warning: campaign.toml: the sender is an example placeholder",
        "warning: not verified with the office itself",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    # Paper-only furniture is left out: the letterhead's street and the return address.
    assert "Example Street 1" not in text
    assert "other letter(s)" not in text  # --to named exactly one
    assert all(line == line.rstrip() for line in text.splitlines())


def test_german_letter_from_a_handwritten_template(mini_campaign: Path) -> None:
    campaign = _with_german(mini_campaign)
    result = run_cli("preview", str(campaign), "--to", "de-mfa")
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert lines[0] == "Recipient  de-mfa — Auswärtiges Amt (DE)"
    assert lines[1] == "Language   de (German, hand-written)"
    assert lines[2] == "Paper      A4"
    text = result.stdout
    order = [
        "Auswärtiges Amt\n11013 BERLIN",
        "10. Dezember 2026",
        "Sehr geehrte Frau Ministerin,",
        "wir wenden uns im Namen von Example Belarusian Diaspora Association an Sie.",
        "1. Setzen Sie sich für die Freilassung aller politischen Gefangenen ein.",
        "2. Unterstützen Sie ihre Familien.",
        "Mit freundlichen Grüßen",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Dear Minister" not in text and "Yours sincerely" not in text
    assert "warning: not verified with the office itself" in text


def test_lang_option_writes_another_recipient_in_that_language(mini_campaign: Path) -> None:
    campaign = _with_german(mini_campaign)
    result = run_cli("preview", str(campaign), "--to", "us-dos", "--lang", "de")
    assert result.returncode == 0, result.stderr
    assert "Language   de (German, hand-written)" in result.stdout
    assert "Dezember 2026" in result.stdout
    assert "U.S. Department of State" in result.stdout


def test_without_to_shows_the_first_and_lists_the_others(mini_campaign: Path) -> None:
    result = run_cli("preview", str(mini_campaign))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Recipient  de-mfa — ")
    assert "1 other letter(s): us-dos (en); see one with --to ID" in result.stdout


def test_warnings_name_a_missing_address_and_a_machine_drafted_language(
    mini_campaign: Path,
) -> None:
    (mini_campaign / "recipients" / "list.yaml").write_text(
        "- id: gr-mfa\n  country: GR\n  organisation: Hellenic Ministry of Foreign Affairs\n"
        "  languages: [de]\n",
        encoding="utf-8",
    )
    # A complete German catalog (each string "translated" as itself) with no
    # review.toml: machine-drafted until someone says otherwise.
    catalog = Catalog(locale="de")
    for msgid in required_ids(load_campaign(mini_campaign)):
        catalog.add(msgid, msgid)
    po = mini_campaign / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as handle:
        write_po(handle, catalog)
    preview = preview_letter(open_campaign(mini_campaign), ["gr-mfa"], today=FIXED_DATE)
    kinds = {w.kind: w.message for w in preview.warnings}
    assert "has no postal address" in kinds["no-address"]
    assert "not verified" in kinds["unverified"]
    assert kinds["machine-drafted"] == (
        "German text is machine-drafted; have a native speaker review locales/de"
    )
    assert preview.language == "de"
    assert not any(block.kind == "address" for block in preview.blocks)


def test_unknown_recipient_is_one_line_exit_2(mini_campaign: Path) -> None:
    result = run_cli("preview", str(mini_campaign), "--to", "us-dso")
    assert result.returncode == 2
    assert "--to 'us-dso' matches no recipient" in result.stderr
    assert "us-dos" in result.stderr  # the close match
    assert "Traceback" not in result.stderr


def test_no_pdf(mini_campaign: Path) -> None:
    """The terminal preview never imports WeasyPrint (its speed: benchmarks/render_bench.py)."""
    result, imported = run_cli_in_one_process("preview", str(mini_campaign), "--to", "us-dos")
    assert result.returncode == 0, result.stderr
    assert "Dear Secretary of State," in result.stdout
    assert not imported


def test_html_to_blocks_reads_like_the_letter() -> None:
    html = """<html><head><title>T</title><style>p{}</style></head><body>
    <div class="mark fold-1"></div>
    <header class="letterhead"><p>Sender Org</p><p>Street 1</p></header>
    <section class="address-window"><p class="return-address">Sender · Street</p>
      <address class="recipient"><span class="line">Office</span>
      <span class="line">City</span></address></section>
    <main><p class="date">1 May 2026</p><h1 class="subject">Subject line</h1>
    <p>First   paragraph,<br>new line &amp; more.</p>
    <ol class="demands"><li>One</li><li>Two</li></ol>
    <ul><li>Bullet</li></ul>
    <section class="signature"><p class="close">Regards,</p>
      <img src="s.svg" alt="Signature of Jane"><p class="signer-name">Jane</p></section>
    </main></body></html>"""
    blocks = [(b.kind, b.marker, b.text) for b in html_to_blocks(html)]
    assert blocks == [
        ("address", "", "Office\nCity"),
        ("date", "", "1 May 2026"),
        ("subject", "", "Subject line"),
        ("paragraph", "", "First paragraph,\nnew line & more."),
        ("item", "1.", "One"),
        ("item", "2.", "Two"),
        ("item", "•", "Bullet"),
        ("paragraph", "", "Regards,\n[Signature of Jane]\nJane"),
    ]


def test_preview_help_documents_every_option() -> None:
    result = run_cli("preview", "--help")
    assert result.returncode == 0
    for option in ("--to", "--lang", "--serve", "--host", "--port", "--open"):
        assert option in result.stdout
