"""Where the bundled default campaign and the package's assets live."""

from __future__ import annotations

from pathlib import Path

from .campaign.model import CAMPAIGN_FILE
from .errors import CampaignError

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"


def bundled_campaign_dir() -> Path:
    """The campaign shipped in the wheel, or the repository root in a checkout."""
    for candidate in (PACKAGE_DIR / "_bundled", PACKAGE_DIR.parent.parent):
        if (candidate / CAMPAIGN_FILE).is_file() and (candidate / "templates").is_dir():
            return candidate
    raise CampaignError("the bundled campaign is missing from this installation; reinstall")


def find_campaign(given: Path | None) -> tuple[Path, bool]:
    """The campaign folder to use and whether it is the bundled one."""
    if given is not None:
        if not given.is_dir():
            raise CampaignError(f"{given}: no such campaign folder")
        if not (given / CAMPAIGN_FILE).is_file():
            raise CampaignError(
                f"{given}: has no {CAMPAIGN_FILE}; give a campaign folder, "
                "or run 'advocacy init DIR' to make one"
            )
        return given, False
    if (Path.cwd() / CAMPAIGN_FILE).is_file():
        return Path.cwd(), False
    return bundled_campaign_dir(), True
