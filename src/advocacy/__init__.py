"""advocacy: turn a resolution's demands into localized letters to governments.

The library behind the command line, loaded lazily (`import advocacy` stays cheap):

    campaign = advocacy.open_campaign(Path("my-campaign"))
    summary = advocacy.render(campaign, advocacy.RenderOptions(out=Path("letters")))
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name -> module that defines it
_PUBLIC = {
    "open_campaign": "advocacy.campaign.discovery",
    "Campaign": "advocacy.campaign.model",
    "Recipient": "advocacy.campaign.recipients",
    "select": "advocacy.campaign.selection",
    "Composer": "advocacy.letter.compose",
    "Letter": "advocacy.letter.compose",
    "render": "advocacy.render.batch",
    "RenderOptions": "advocacy.render.batch",
    "RenderSummary": "advocacy.render.batch",
    "send": "advocacy.send.run",
    "SendOptions": "advocacy.send.run",
    "SendSummary": "advocacy.send.summary",
    "status": "advocacy.send.status",
    "AdvocacyError": "advocacy.errors",
    "BadInput": "advocacy.errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    # Looked up lazily: importlib.metadata costs ~60 ms of start-up for every command.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("advocacy")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(import_module(module), name)
