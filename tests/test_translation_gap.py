"""An edited sentence never quietly turns letters into English (issue 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import REPO, bundled_toml, edit_file, files_in, run_cli

OLD = "Belarusians abroad"
NEW = "Belarusians in Exampleland"
PICKED = ("--to", "de-mfa", "--to", "pl-mfa", "--to", "us-dos", "--format", "html")


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """The bundled campaign, 24 complete catalogs, with its first sentence edited."""
    root = tmp_path / "campaign"
    for part in ("templates", "recipients", "locales"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("*.mo"))
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    edit_file(root / "templates" / "letter.html.j2", OLD, NEW)
    return root


def test_an_edited_sentence_stops_its_letters_and_says_what_to_do(edited: Path) -> None:
    result = run_cli("render", str(edited), *PICKED)
    assert result.returncode == 2, result.stderr
    err = result.stderr
    assert "Traceback" not in err
    # The block: which sentence (its first words), which languages, the command.
    assert "2 letter(s) not made: 1 sentence(s)" in err
    assert (
        '"We are writing to you on behalf of {sender_org}, which brings together …" '
        "(templates/letter.html.j2:" in err
    )
    assert ") lacks de, pl\n" in err
    assert f"advocacy translations update {edited}" in err
    assert "--allow-fallback" in err
    assert err.count("not made:") == 1  # once, as a block, not once per letter
    # The English letter is made; the German and Polish ones are not.
    assert files_in(edited / "letters") == ["manifest.json", "us-dos.en.html"]


def test_allow_fallback_writes_them_in_english_and_says_so_once(edited: Path) -> None:
    result = run_cli("render", str(edited), *PICKED, "--allow-fallback")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "written in English" in line]
    assert len(said) == 1 and "2 letter(s)" in said[0] and "de, pl" in said[0]
    assert "not in the recipient's first language" not in result.stderr  # not twice
    assert files_in(edited / "letters") == [
        "de-mfa.en.html",
        "manifest.json",
        "pl-mfa.en.html",
        "us-dos.en.html",
    ]
    assert NEW in (edited / "letters" / "de-mfa.en.html").read_text(encoding="utf-8")


def test_the_campaign_can_choose_the_fallback(edited: Path) -> None:
    edit_file(
        edited / "campaign.toml", 'missing_translation = "stop"', 'missing_translation = "fallback"'
    )
    result = run_cli("render", str(edited), "--to", "de-mfa", "--format", "html")
    assert result.returncode == 0, result.stderr
    assert files_in(edited / "letters") == ["de-mfa.en.html", "manifest.json"]


def test_update_keeps_the_old_translation_as_a_fuzzy_suggestion(edited: Path) -> None:
    po = edited / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        before = {m.id: m.string for m in read_po(handle) if m.id}
    old_id = next(i for i in before if isinstance(i, str) and OLD in i)
    result = run_cli("translations", "update", str(edited))
    assert result.returncode == 0, result.stderr
    with po.open("rb") as handle:
        after = {m.id: m for m in read_po(handle) if m.id}
    new_id = old_id.replace(OLD, NEW)
    assert after[new_id].fuzzy
    assert after[new_id].string == before[old_id]
    # And the status names exactly what is missing, per language.
    status = run_cli("translations", "status", str(edited))
    assert status.returncode == 0, status.stderr
    assert "de: We are writing to you on behalf of" in status.stdout
    assert "pl: We are writing to you on behalf of" in status.stdout
