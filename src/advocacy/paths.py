"""Where the package's assets and the bundled default campaign live."""

from __future__ import annotations

from pathlib import Path

from .errors import CampaignError

CAMPAIGN_FILE = "campaign.toml"
PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"


def bundled_campaign_dir() -> Path:
    """The campaign shipped in the wheel, or the repository root in a checkout."""
    for candidate in (PACKAGE_DIR / "_bundled", PACKAGE_DIR.parent.parent):
        if (candidate / CAMPAIGN_FILE).is_file() and (candidate / "templates").is_dir():
            return candidate
    raise CampaignError("the bundled campaign is missing from this installation; reinstall")
