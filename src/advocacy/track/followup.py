"""Follow-ups: a second letter to every office that has not answered.

`advocacy render --follow-up --after 30d` picks the recipients whose first letter
(sent, posted or delivered) is at least that old, with no reply and no bounce,
and renders for them the follow-up letter: the campaign's own
templates/followup.html.j2, else the bundled, machine-drafted default. The
follow-up names the first letter's date and reference; its email answers the
first one (In-Reply-To and References: its Message-ID), so that the office's mail
client shows both in one thread.

Follow-ups live in `<out>/follow-up/`, a render folder of their own with its own
manifest and send journal: `advocacy send --follow-up` sends them exactly once,
like any letter, and `status`, `report` and `inbox` read that folder too (a reply
to a follow-up is a reply to the letter).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..campaign.model import Campaign, Thread
from ..campaign.translations import follow_up_template
from ..errors import BadInput
from .inbox import FOLLOW_UP_DIR
from .states import CONTACT, letters, today


@dataclass(frozen=True)
class FollowUps:
    campaign: Campaign  # the campaign, writing follow-ups to these recipients
    out: Path  # <out>/follow-up
    recipients: list[str]


def plan(campaign: Campaign, out: Path, after_days: int, selectors: list[str]) -> FollowUps:
    """The follow-ups due, as a campaign whose letter is the follow-up."""
    on = today()
    due: dict[str, Thread] = {}
    for item in letters(campaign, out):
        if not item.unanswered_after(after_days, on):
            continue
        first = item.first(*CONTACT)
        assert first is not None  # unanswered_after needs a first contact
        sent = item.first("sent")
        message_id = ""
        if sent is not None and sent.source and sent.source.startswith("journal:"):
            message_id = sent.source.rsplit(":", 1)[1]
        due[item.id] = Thread(dt.date.fromisoformat(first.day), message_id)
    if selectors:
        from ..campaign.selection import select

        chosen = {r.id for r in select(campaign.recipients, selectors)}
        due = {rid: thread for rid, thread in due.items() if rid in chosen}
    if not due:
        raise BadInput(
            f"{out}: no letter waits for an answer for {after_days} days or more "
            "(see 'advocacy report' for who replied and when each letter went out)"
        )
    _, name, _ = follow_up_template(campaign)
    # Dated the day it is written, not the campaign's date (which is the first letter's).
    settings = campaign.config.campaign.model_copy(update={"letter_template": name, "date": on})
    config = campaign.config.model_copy(update={"campaign": settings})
    variant = dataclasses.replace(campaign, config=config, follow_ups=due)
    return FollowUps(variant, out / FOLLOW_UP_DIR, sorted(due))
