"""What goes out is what this machine rendered for that recipient (issue 21)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from mailserver import MailServer, make_campaign, office

FORGED = "FORGED-BY-THE-SENDER-OF-THE-FOLDER"


@pytest.fixture
def server() -> Iterator[MailServer]:
    started = MailServer().start()
    yield started
    started.stop()


def _campaign(root: Path) -> Path:
    return make_campaign(root, [office(1), office(2)])  # a real sender, not the placeholder


def test_a_pre_seeded_edited_letter_is_never_sent(tmp_path: Path, server: MailServer) -> None:
    campaign = _campaign(tmp_path / "received")
    letters = campaign / "letters"
    # Whoever sent us the folder rendered it on their machine (their key) ...
    theirs = {"XDG_STATE_HOME": str(tmp_path / "their-machine")}
    made = run_cli("render", str(campaign), "--format", "eml", "--no-attach-pdf", env=theirs)
    assert made.returncode == 0, made.stderr
    # ... then edited a letter and made the manifest vouch for the edit.
    eml = letters / "r1.en.eml"
    data = eml.read_bytes().replace(b"We are writing to you", FORGED.encode(), 1)
    assert FORGED.encode() in data
    eml.write_bytes(data)
    manifest = json.loads((letters / "manifest.json").read_text())
    for entry in manifest["letters"]:
        for item in entry["files"]:
            if item["path"] == eml.name:
                item["sha256"], item["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (letters / "manifest.json").write_text(json.dumps(manifest))

    ours = {"XDG_STATE_HOME": str(tmp_path / "our-machine")}
    sent = run_cli(
        "send", str(campaign), "--to", "r1", "--smtp", server.url, "--no-attach-pdf",
        "--no-dry-run", "--json", env=ours,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    (message,) = server.messages()
    assert message.rcpt_tos == ["r1@example.org"]
    assert FORGED.encode() not in message.data
    assert b"We are writing to you" in message.data.replace(b"=\r\n", b"")
    assert "not rendered by advocacy on this machine" in sent.stderr
    assert FORGED.encode() not in eml.read_bytes()  # rendered again, in place


def test_letters_rendered_here_are_reused(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path / "ours")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    assert run_cli("render", str(campaign), "--format", "html", env=env).returncode == 0
    again = run_cli("render", str(campaign), "--format", "html", "--json", env=env)
    assert json.loads(again.stdout)["skipped"] == 2
    key = tmp_path / "state" / "advocacy" / "manifest.key"
    assert key.stat().st_mode & 0o077 == 0  # the key is the user's alone
