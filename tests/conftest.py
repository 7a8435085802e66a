"""Shared fixtures: real campaigns on disk, the real CLI in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
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
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


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


@pytest.fixture
def mini_campaign(tmp_path: Path) -> Path:
    """A copy of the bundled campaign with two recipients and a fixed date."""
    root = tmp_path / "campaign"
    root.mkdir()
    shutil.copytree(REPO / "templates", root / "templates")
    toml = (REPO / "campaign.toml").read_text(encoding="utf-8")
    toml = toml.replace("# date = 2026-12-10", f"date = {FIXED_DATE.isoformat()}")
    (root / "campaign.toml").write_text(toml, encoding="utf-8")
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(MINI_RECIPIENTS, encoding="utf-8")
    return root


def files_in(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir())
