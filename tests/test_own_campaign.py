"""A group's own campaign: found from inside its folder, its letters in its own
folder, never mixed with another campaign's (issue 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import files_in, run_cli


def test_render_from_a_subfolder_uses_that_campaign(mini_campaign: Path) -> None:
    result = run_cli(
        "render", "--to", "us-dos", "--format", "html", cwd=mini_campaign / "templates"
    )
    assert result.returncode == 0, result.stderr
    assert "bundled example" not in result.stderr
    # Into the campaign's own letters/, not the current folder's.
    assert files_in(mini_campaign / "letters") == ["manifest.json", "us-dos.en.html"]
    assert not (mini_campaign / "templates" / "letters").exists()
    manifest = json.loads((mini_campaign / "letters" / "manifest.json").read_text())
    assert manifest["campaign_dir"] == str(mini_campaign.resolve())


def test_render_from_an_empty_folder_says_it_uses_the_bundled_example(tmp_path: Path) -> None:
    result = run_cli("render", "--to", "us-dos", "--format", "html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert "bundled example campaign" in first and "advocacy init" in first
    assert files_in(tmp_path / "letters") == ["manifest.json", "us-dos.en.html"]


def test_a_second_campaign_into_the_same_folder_is_refused(
    mini_campaign: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(mini_campaign, other)
    shared = tmp_path / "shared-letters"
    first = run_cli("render", str(mini_campaign), "--to", "us-dos", "--format", "html",
                    "--out", str(shared))  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = sorted((p.name, p.stat().st_mtime_ns) for p in shared.iterdir())
    second = run_cli("render", str(other), "--to", "de-mfa", "--format", "html",
                     "--out", str(shared))  # fmt: skip
    assert second.returncode == 2
    line = second.stderr.strip().splitlines()[-1]
    assert str(mini_campaign.resolve()) in line and str(other.resolve()) in line
    assert "Traceback" not in second.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in shared.iterdir()) == before


def _with_emails(campaign: Path) -> None:
    from conftest import edit_file

    recipients = campaign / "recipients" / "list.yaml"
    edit_file(recipients, "  tags: [eu, mfa]\n", "  tags: [eu, mfa]\n  email: de@example.org\n")
    edit_file(recipients, "  tags: [partner]\n", "  tags: [partner]\n  email: us@example.org\n")


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.iterdir()}


def test_each_output_is_tracked_on_its_own(mini_campaign: Path) -> None:
    """render, send (dry run), render: the last renders nothing and deletes nothing;
    send after render builds only the .eml files."""
    _with_emails(mini_campaign)
    letters = mini_campaign / "letters"
    first = run_cli("render", str(mini_campaign), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["rendered"] == 2
    pdfs = {name: stamp for name, stamp in _stamps(letters).items() if name.endswith(".pdf")}

    sent = run_cli("send", str(mini_campaign), "--json")
    assert sent.returncode == 0, sent.stderr
    assert len(json.loads(sent.stdout)["planned"]) == 2
    after_send = _stamps(letters)
    emails = {name.replace(".pdf", ".eml") for name in pdfs}
    assert len(emails) == 2 and emails <= set(after_send)
    # The PDFs were not made again: the same files, untouched.
    assert {name: after_send[name] for name in pdfs} == pdfs

    again = run_cli("render", str(mini_campaign), "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["rendered"], summary["skipped"]) == (0, 2)
    now = _stamps(letters)
    for name in (*emails, *pdfs):  # still there, and the same files
        assert now[name] == after_send[name]


def test_a_run_of_the_bundled_campaign_prints_at_most_8_lines(tmp_path: Path) -> None:
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 8, "\n".join(lines)
    # Grouped, not dropped: the machine-drafted languages are one line naming them.
    drafted = [line for line in lines if "machine-drafted translations:" in line]
    assert len(drafted) == 1 and "(bg, cs, da, de," in drafted[0]
    assert result.stdout.startswith("Rendered 32 letter(s)")
    quiet = run_cli("render", "--quiet", "--force", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("Rendered 32 letter(s)")


def test_recipients_check_groups_by_recipient_most_serious_first(mini_campaign: Path) -> None:
    from conftest import edit_file

    edit_file(
        mini_campaign / "recipients" / "list.yaml",
        "  tags: [partner]\n",
        "  tags: [partner]\n  email: state@@example.org\n",
    )
    result = run_cli("recipients", "check", str(mini_campaign))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "us-dos"  # the blocking finding comes first
    assert lines[1].startswith("  blocks: bad-email: email 'state@@example.org' is not a valid")
    # What both share is said once, with a count.
    unverified = [line for line in lines if "unverified" in line]
    assert len(unverified) == 2  # the line, and the headline's count
    assert unverified[0].startswith("unverified: 2 recipient(s) (de-mfa, us-dos)")
    assert "1 must be fixed" in lines[-1]


SENDER = (
    "--organisation", 'Belarusian Community "Razam" e.V.',
    "--street-address", "Hauptstraße 5",
    "--postal-code", "10115",
    "--city", "Berlin",
    "--country", "de",
    "--email", "letters@razam.example",
    "--signer", "Alena Kavalenka",
    "--role", "Chair",
)  # fmt: skip


def test_init_writes_the_groups_own_sender(tmp_path: Path) -> None:
    import tomllib

    target = tmp_path / "my-campaign"
    result = run_cli("init", str(target), *SENDER)
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((target / "campaign.toml").read_text(encoding="utf-8"))
    assert config["sender"] == {
        **config["sender"],
        "organisation": 'Belarusian Community "Razam" e.V.',
        "street_address": "Hauptstraße 5",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "email": "letters@razam.example",
        "placeholder": False,
    }
    assert config["signature"]["name"] == "Alena Kavalenka"
    assert config["render"]["no_address"] == "fail"  # the example's "mark" is not kept
    assert (
        "# The signature block printed under the letter" in (target / "campaign.toml").read_text()
    )
    render = run_cli("render", "--to", "us-dos", "--format", "html", cwd=target)
    assert render.returncode == 0, render.stderr
    assert "placeholder" not in render.stderr
    html = (target / "letters" / "us-dos.en.html").read_text(encoding="utf-8")
    assert "Alena Kavalenka" in html and "EXAMPLE SENDER" not in html


def test_init_in_a_pipe_needs_the_sender_or_example(tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "a"))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "--organisation" in line and "--example" in line and "\n" not in line
    assert not (tmp_path / "a").exists()  # nothing half-made
    bad = run_cli("init", str(tmp_path / "b"), *SENDER[:-2], "--role", "Chair\nBcc: x@y.z")
    assert bad.returncode == 2 and "--role must be one line" in bad.stderr
    example = run_cli("init", str(tmp_path / "c"), "--example")
    assert example.returncode == 0, example.stderr
    assert "placeholder = true" in (tmp_path / "c" / "campaign.toml").read_text()
