"""`advocacy init`: copy the bundled campaign into a folder for editing."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import BadInput, OutputError
from ..paths import CAMPAIGN_FILE, bundled_campaign_dir

PARTS = (CAMPAIGN_FILE, "templates", "recipients", "locales")


def init_campaign(target: Path, *, force: bool = False) -> list[Path]:
    """Copy the bundled campaign into `target`; refuse a non-empty folder unless forced."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file, not a folder; choose another folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BadInput(
            f"{target}: is not empty; choose a new folder, or use --force to copy the "
            "campaign into it (files with the same names are replaced)"
        )
    source = bundled_campaign_dir()
    written = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            origin = source / part
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target / part,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.mo", "__pycache__"),
                )
            elif origin.is_file():
                shutil.copy2(origin, target / part)
            else:
                continue
            written.append(target / part)
    except OSError as exc:
        raise OutputError(f"{target}: cannot copy the campaign: {exc.strerror}") from None
    return written
