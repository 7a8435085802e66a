"""Every error a person can cause, and every screen they read, in words (issue 13):
commands other than render, help, completion, a non-UTF-8 terminal, the status CSV."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advocacy.send.journal import Entry, Journal
from conftest import REPO, bundled_toml, run_cli


def _one_error(result: object) -> str:
    stderr = result.stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_an_unknown_locale_for_translations_is_one_line(mini_campaign: Path) -> None:
    result = run_cli("translations", "update", str(mini_campaign), "--lang", "xx-YY")
    assert result.returncode == 2
    assert "--lang 'xx-YY' is not a known language code" in _one_error(result)
    assert not (mini_campaign / "locales").exists()  # nothing written


def test_debug_works_after_the_subcommand(mini_campaign: Path) -> None:
    result = run_cli("render", str(mini_campaign), "--to", "nobody", "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "SelectorError" in result.stderr


@pytest.mark.parametrize("command", ["extract", "update", "compile"])
def test_translation_commands_never_write_into_the_bundled_campaign(
    command: str, tmp_path: Path
) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in (REPO / "locales").rglob("*"))
    result = run_cli("translations", command, cwd=tmp_path)
    assert result.returncode == 2
    line = _one_error(result)
    assert "read-only" in line and "advocacy init" in line
    assert sorted((p, p.stat().st_mtime_ns) for p in (REPO / "locales").rglob("*")) == before


def test_a_terminal_that_is_not_utf8_gets_replacement_characters(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "COLUMNS": "120"}
    for args in (("preview", "--to", "gr-mfa"), ("recipients", "list")):
        result = subprocess.run(
            [sys.executable, "-m", "advocacy", *args], cwd=tmp_path, env=env, capture_output=True
        )
        assert result.returncode == 0, result.stderr
        assert b"UnicodeEncodeError" not in result.stderr
        # Greek cannot be shown in Latin-1: question marks, the rest as it is.
        assert b"?" in result.stdout
        result.stdout.decode("latin-1")


def test_the_journal_reads_a_folded_message_id_unfolded(tmp_path: Path) -> None:
    from advocacy.formats.headers import read_head, shown_headers

    path = tmp_path / "m.eml"
    path.write_bytes(
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n"
        b"Message-ID:\r\n <0123456789abcdef0123456789abcdef@letters.example.org>\r\n\r\nbody\r\n"
    )
    assert shown_headers(read_head(path))["Message-ID"] == (
        "<0123456789abcdef0123456789abcdef@letters.example.org>"
    )


def test_help_shows_words_not_python_types() -> None:
    top = run_cli("-h")
    assert top.returncode == 0
    commands = top.stdout.split("Commands:", 1)[1].split()
    assert commands[0] == "init"
    render = run_cli("render", "-h").stdout
    for words in ("--to SELECTOR", "--jobs N", "--out DIR", "--format FORMAT", "[CAMPAIGN]"):
        assert words in render, words
    for python in ("<list[str]>", "<int range>", "<path>", "<str>", "{"):
        assert python not in render, python
    assert "Usage: advocacy init [OPTIONS] DIR" in run_cli("init", "-h").stdout


def _complete(words: str, cwd: Path) -> list[str]:
    env = {
        "_ADVOCACY_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    result = run_cli(cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_shell_completion_completes_values(mini_campaign: Path) -> None:
    assert _complete("advocacy render --to ", mini_campaign) == [
        "de",
        "de-mfa",
        "tag:eu",
        "tag:mfa",
        "tag:partner",
        "us",
        "us-dos",
    ]
    assert _complete("advocacy render --to us", mini_campaign) == ["us", "us-dos"]
    assert _complete("advocacy render --format e", mini_campaign) == ["eml"]
    shutil.copytree(REPO / "locales" / "de", mini_campaign / "locales" / "de")
    assert _complete("advocacy render --lang d", mini_campaign) == ["de"]


def test_status_csv_is_one_line_per_message_and_runs_no_formula(tmp_path: Path) -> None:
    out = tmp_path / "letters"
    out.mkdir()
    (tmp_path / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    with Journal.open(out) as journal:
        journal.queue(
            [
                Entry("de-mfa", "letter", "=HYPERLINK(\"http://x\")", "de", "de@example.org",
                      "de-mfa.de.eml", "ab" * 32, "<id1@example.org>"),
                Entry("us-dos", "letter", "us-dos", "en", "us@example.org",
                      "us-dos.en.eml", "cd" * 32, "<id2@example.org>"),
            ]
        )  # fmt: skip
        journal.mark("de-mfa", "failed", "550-5.1.1 no such user\n550 5.1.1 see you")
    result = run_cli("status", "--out", str(out), "--csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3  # the header and one line per message
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["de-mfa"]["recipient"].startswith("'=")
    assert rows["de-mfa"]["reply"] == "'550-5.1.1 no such user 550 5.1.1 see you"[1:]
    assert rows["us-dos"]["message_id"] == "<id2@example.org>"
