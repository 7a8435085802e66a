"""Which campaign a command works on, and where its letters go.

The folder given; else the nearest folder at or above the current one that has a
campaign.toml (as git finds `.git`); else the bundled example, said so on the
first line. Letters go to `<campaign>/letters`, except for the bundled example
used from a folder without a campaign: `./letters`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CampaignError
from ..paths import CAMPAIGN_FILE, bundled_campaign_dir
from .model import Campaign, load_campaign

OUTPUT_DIR = "letters"


@dataclass(frozen=True)
class Found:
    root: Path
    bundled: bool  # the campaign shipped with advocacy
    defaulted: bool  # used because no campaign was given or found


def locate(given: Path | None, start: Path | None = None) -> Found:
    """The campaign folder to use, given or searched for upward from `start`."""
    bundled_dir = bundled_campaign_dir()
    if given is not None:
        if not given.is_dir():
            raise CampaignError(f"{given}: no such campaign folder")
        if not (given / CAMPAIGN_FILE).is_file():
            raise CampaignError(
                f"{given}: has no {CAMPAIGN_FILE}; give a campaign folder, "
                "or run 'advocacy init DIR' to make one"
            )
        return Found(given, _same(given, bundled_dir), False)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CAMPAIGN_FILE).is_file():
            return Found(folder, _same(folder, bundled_dir), False)
    return Found(bundled_dir, True, True)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def find_campaign(given: Path | None) -> tuple[Path, bool]:
    """The campaign folder to use and whether it is the bundled one."""
    found = locate(given)
    return found.root, found.bundled


def open_campaign(given: Path | None) -> Campaign:
    """The campaign, found and loaded once: commands take it from here."""
    found = locate(given)
    campaign = load_campaign(found.root, bundled=found.bundled)
    campaign.defaulted = found.defaulted
    return campaign


def default_output(campaign: Campaign) -> Path:
    """Where letters go when no --out is given."""
    if campaign.defaulted:
        return Path(OUTPUT_DIR)
    return campaign.root / OUTPUT_DIR


def bundled_notice() -> str:
    """The first line of a command that fell back to the bundled example."""
    return (
        f"No {CAMPAIGN_FILE} in this folder or above it: using the bundled example campaign "
        "(letters on the Belarusian political prisoners, with a placeholder sender). "
        "Make your own with 'advocacy init my-campaign'."
    )
