"""Shared fixtures: real campaigns on disk, the real CLI in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mailserver import MailServer

REPO = Path(__file__).resolve().parent.parent
# advocacy refuses a Python without the CVE-2024-6923 fix (runtime.py), and the pyenv
# Python 3.11.7 of the project's machines lacks it: the suite accepts that risk, except
# test_trust.py's start-up test, which runs the command line without this.
os.environ.setdefault("ADVOCACY_ALLOW_UNFIXED_PYTHON", "1")
FIXED_DATE = dt.date(2026, 12, 10)

MINI_RECIPIENTS = """\
- id: de-mfa
  country: DE
  organisation: {en: Federal Foreign Office, de: Auswärtiges Amt}
  salutation: {en: "Dear Minister,"}
  languages: [de-DE]
  address: {postal_code: "11013", city: Berlin}
  tags: [eu, mfa]
  source: https://example.org/de
  confidence: high
- id: us-dos
  country: US
  organisation: U.S. Department of State
  salutation: {en: "Dear Secretary of State,"}
  languages: [en-US]
  address:
    street_address: 2201 C Street NW
    city: Washington
    country_area: DC
    postal_code: "20520"
  tags: [partner]
  source: https://example.org/us
  confidence: high
"""


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "advocacy", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # as in a script: nothing asks, even under a terminal
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def on_a_terminal(
    args: Sequence[str],
    answer: str | None = None,
    *,
    unset: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its controlling terminal (stdin, stdout,
    stderr and /dev/tty, as for a person at a terminal); type `answer` at its first
    password prompt; without `unset` in its environment. (exit code, all it showed)."""
    import pty
    import select

    pid, leader = pty.fork()
    if pid == 0:  # the child
        child = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != unset}
        os.execve(sys.executable, [sys.executable, "-m", "advocacy", *args], child)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
        # click writes the prompt, then getpass turns echo off and writes " ": typed
        # before that, the answer would be echoed (and flushed by getpass).
        if answer is not None and b"password" in shown.lower() and shown.endswith(b": "):
            os.write(leader, answer.encode() + b"\r")
            answer = None
    os.close(leader)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def run_cli_in_one_process(*args: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    """The CLI run by main() in a fresh interpreter, and whether it imported WeasyPrint."""
    code = (
        "import sys\n"
        f"sys.argv = ['advocacy', *{list(args)!r}]\n"
        "from advocacy import cli\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('WEASY' if 'weasyprint' in sys.modules else 'LAZY')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    marker = result.stdout.strip().rsplit("\n", 1)[-1]
    assert marker in ("LAZY", "WEASY"), result.stderr  # the script ran to its end
    return result, marker == "WEASY"


def normalize(text: str) -> str:
    """PDF text with line breaks, hyphenation and ligatures smoothed out."""
    text = unicodedata.normalize("NFKC", text)
    # Letters are not hyphenated automatically: a hyphen at a line end is part of
    # the word ("Valko-\nVenäjän"), so keep it and drop the break.
    text = re.sub(r"-\n", "-", text)
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return normalize("\n".join(page.extract_text() or "" for page in pdf.pages))


def replaced(text: str, old: str, new: str, count: int = 1) -> str:
    """`text` with `old` replaced `count` times; fails when `old` occurs fewer times,
    so an edit of a fixture never silently does nothing when the text changes."""
    found = text.count(old)
    assert found >= count, f"{old!r} occurs {found} time(s), expected {count}"
    return text.replace(old, new, count)


def edit_file(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old` by `new` in the file, strictly (see `replaced`)."""
    path.write_text(replaced(path.read_text(encoding="utf-8"), old, new, count), "utf-8")


def build_file_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` (relative path -> text or bytes) under `root`, folders included
    (copier's `build_file_tree` is the model)."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def bundled_toml(date: dt.date = FIXED_DATE) -> str:
    """The bundled campaign.toml with a fixed letter date."""
    text = (REPO / "campaign.toml").read_text(encoding="utf-8")
    return replaced(text, "# date = 2026-12-10", f"date = {date.isoformat()}")


@pytest.fixture
def mini_campaign(tmp_path: Path) -> Path:
    """The bundled templates with two recipients and a fixed date."""
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    return build_file_tree(
        root, {"campaign.toml": bundled_toml(), "recipients/list.yaml": MINI_RECIPIENTS}
    )


def files_in(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def smtp_servers() -> Iterator[Callable[..., MailServer]]:
    """Start real SMTP servers (aiosmtpd, tests/mailserver.py) on free ports of
    127.0.0.1, with the given settings; all stopped after the test."""
    from mailserver import MailServer

    started: list[MailServer] = []

    def start(**kwargs: Any) -> MailServer:
        server = MailServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
