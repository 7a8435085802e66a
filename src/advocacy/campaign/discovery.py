"""Which campaign a command works on: the folder given, else the current folder if it
is a campaign, else the bundled one."""

from __future__ import annotations

from pathlib import Path

from ..errors import CampaignError
from ..paths import CAMPAIGN_FILE, bundled_campaign_dir
from .model import Campaign, load_campaign


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


def open_campaign(given: Path | None) -> Campaign:
    """The campaign, found and loaded once: commands take it from here."""
    root, bundled = find_campaign(given)
    return load_campaign(root, bundled=bundled)
