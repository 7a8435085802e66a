"""A newcomer's path: init, recipients, help for everything, README commands."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from advocacy.cli import app
from conftest import REPO, edit_file, files_in, pdf_text, run_cli


def _walk(command: Any, path: str = "advocacy") -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _walk(sub, f"{path} {name}")
    return found


def test_every_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    missing = []
    for path, command in _walk(root):
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{path} {param.name}")
    assert missing == []


def test_init_then_render_and_edit(tmp_path: Path) -> None:
    target = tmp_path / "my-campaign"
    result = run_cli("init", str(target), "--example")
    assert result.returncode == 0, result.stderr
    assert "advocacy render" in result.stdout
    assert sorted(p.name for p in target.iterdir()) == [
        "campaign.toml",
        "locales",
        "recipients",
        "templates",
    ]
    letter = target / "templates" / "letter.html.j2"
    edit_file(letter, "{% block body %}", "{% block body %}<p>Edited-by-us-42</p>")
    result = run_cli("render", "--to", "us-dos", cwd=target)
    assert result.returncode == 0, result.stderr
    assert "Edited-by-us-42" in pdf_text(target / "letters" / "us-dos.en.pdf")
    # The bundled campaign itself is untouched.
    assert "Edited-by-us-42" not in (REPO / "templates" / "letter.html.j2").read_text()


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("init", str(tmp_path), "--example")
    assert result.returncode == 2
    assert "is not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert run_cli("init", str(tmp_path), "--example", "--force").returncode == 0
    assert (tmp_path / "campaign.toml").is_file() and (tmp_path / "notes.txt").is_file()


def test_recipients_list(tmp_path: Path) -> None:
    result = run_cli("recipients", "list", str(REPO), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 32
    us = next(row for row in rows if row["id"] == "us-dos")
    assert us["paper"] == "Letter" and us["language"] == "en-US" and us["verified"] is False
    result = run_cli("recipients", "list", str(REPO), "--to", "tag:partner")
    assert result.returncode == 0
    assert "3 recipient(s)" in result.stdout


def test_recipients_check_reports_exactly_the_unverified(tmp_path: Path) -> None:
    import yaml

    result = run_cli("recipients", "check", str(REPO), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    unverified = {f["recipient"] for f in report["findings"] if f["kind"] == "unverified"}
    expected = set()
    for path in (REPO / "recipients").glob("*.yaml"):
        expected |= {e["id"] for e in yaml.safe_load(path.read_text()) if not e.get("verified")}
    assert unverified == expected
    no_address = {f["recipient"] for f in report["findings"] if f["kind"] == "no-address"}
    assert {"gr-mfa", "lt-mfa"} <= no_address


def test_recipients_check_on_a_broken_list_exits_1(mini_campaign: Path) -> None:
    path = mini_campaign / "recipients" / "list.yaml"
    edit_file(path, "languages: [en-US]", "languages: [xx-QQ]")
    result = run_cli("recipients", "check", str(mini_campaign))
    assert result.returncode == 1
    assert "recipients/list.yaml: entry 2 (id 'us-dos'): field 'languages'" in result.stderr


def test_recipients_check_flags_stale_and_duplicate(mini_campaign: Path) -> None:
    path = mini_campaign / "recipients" / "list.yaml"
    edit_file(path, "  confidence: high\n", "  confidence: high\n  email: office@example.org\n", 2)
    edit_file(
        path,
        "  source: https://example.org/us\n",
        "  source: https://example.org/us\n  verified: 2020-01-01\n",
    )
    result = run_cli("recipients", "check", str(mini_campaign), "--json")
    findings = json.loads(result.stdout)["findings"]
    kinds = {(f["recipient"], f["kind"]) for f in findings}
    assert ("us-dos", "stale") in kinds and ("us-dos", "unverified") not in kinds
    assert ("de-mfa", "duplicate-email") in kinds and ("us-dos", "duplicate-email") in kinds


def _walkthrough_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


@pytest.mark.slow
def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    """The walkthrough's commands in one shell, from the repository folder, as a new
    user types them: `advocacy` is not on PATH until the activation step puts it there."""
    commands = _walkthrough_commands()
    assert commands[0] == ". .venv/bin/activate"
    assert any(c.startswith("advocacy init") for c in commands)
    assert any(c.startswith("advocacy render") for c in commands)
    activate = REPO / ".venv" / "bin" / "activate"
    assert activate.is_file(), "run the README's set-up first (scripts/install.sh --test)"
    script = ["set -e"]
    for command in commands:
        if "--no-dry-run" in command or "--send" in command:
            continue  # needs a real mail server
        script += [f"echo {shlex.quote('+ ' + command)} >&2", command]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "120"}
    assert subprocess.run(["sh", "-c", "command -v advocacy"], env=env).returncode != 0
    result = subprocess.run(
        ["sh", "-c", "\n".join(script)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    letters = tmp_path / "my-campaign" / "letters"
    assert {"de-mfa.de.pdf", "us-dos.en.pdf", "manifest.json"} <= set(files_in(letters))
    assert "placeholder" not in pdf_text(letters / "us-dos.en.pdf").lower()
