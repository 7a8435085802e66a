"""The command line itself: help, version, lazy imports, module entry point."""

from __future__ import annotations

from pathlib import Path

from conftest import on_a_terminal, run_cli, run_cli_in_one_process


def test_help_does_not_import_weasyprint() -> None:
    result, imported = run_cli_in_one_process("--help")
    assert result.returncode == 0, result.stderr
    assert "render" in result.stdout
    assert not imported


def test_render_help_documents_every_option() -> None:
    result = run_cli("render", "--help")
    assert result.returncode == 0
    for option in ("--to", "--lang", "--format", "--out", "--force", "--pdf-variant", "--json"):
        assert option in result.stdout


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("advocacy ")


def test_usage_error_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_cli("render", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_in_a_pipe_with_a_summary_line(mini_campaign: Path, tmp_path: Path) -> None:
    result = run_cli("render", str(mini_campaign), "--format", "html", "--out", str(tmp_path / "o"))
    assert result.returncode == 0
    assert result.stdout.startswith("Rendered 2 letter(s), 2 file(s)")
    assert "\x1b[" not in result.stderr  # no progress bar or colour codes in a pipe
    assert "warning: campaign.toml: the sender is an example placeholder" in result.stderr


def test_campaign_in_current_folder_is_the_default(mini_campaign: Path) -> None:
    result = run_cli("render", "--format", "html", "--to", "us-dos", cwd=mini_campaign)
    assert result.returncode == 0, result.stderr
    assert (mini_campaign / "letters" / "us-dos.en.html").is_file()


def test_progress_bar_on_a_terminal(mini_campaign: Path, tmp_path: Path) -> None:
    """On a terminal a progress bar is drawn (and nothing breaks while it is)."""
    code, shown = on_a_terminal(
        ["render", str(mini_campaign), "--format", "html", "--out", str(tmp_path / "o")],
        env={"COLUMNS": "120", "TERM": "xterm"},
    )
    assert code == 0, shown
    assert "rendering" in shown and "2/2" in shown
    assert "Traceback" not in shown and "Rendered 2 letter(s)" in shown
