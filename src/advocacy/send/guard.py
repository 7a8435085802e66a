"""What stands between `--no-dry-run` and a letter going out by accident.

A campaign copied by `init` keeps the ministries' real addresses, so a real send:
- is refused while the sender is the example placeholder (`--test-to` is not: it
  sends test copies to the user's own address, which is what it is for);
- on a terminal, shows the count and goes ahead only when that number is typed
  back (`--yes` skips the question, for scripts);
- without a terminal, is refused when it is the output folder's first real send,
  to more than one recipient, with neither `--to` nor `--yes`: a script that sends
  everything says so once, and a rerun after that (the rest of a batch) goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..campaign.model import Campaign
from ..errors import SendCancelled, SendRefused
from ..paths import CAMPAIGN_FILE
from .journal import Journal
from .outgoing import Outgoing

SHOWN = 3  # recipients named in the question


def refuse_placeholder(campaign: Campaign) -> None:
    """A real send with the example sender would sign the letters with an invented name."""
    if campaign.bundled:  # nobody should edit the copy inside the installed package
        raise SendRefused(
            "not sent: this is the bundled example campaign, whose sender is a placeholder; "
            "make your own with 'advocacy init DIR', set your sender in DIR/campaign.toml, "
            "and send from DIR (meanwhile --test-to YOUR-ADDRESS sends the letters to you)"
        )
    if campaign.config.sender.placeholder:
        raise SendRefused(
            f"not sent: {campaign.root / CAMPAIGN_FILE}: the sender is the example "
            "placeholder; set your organisation, address and email in [sender] and your "
            "signer in [signature], then placeholder = false in [sender] (meanwhile "
            "--test-to YOUR-ADDRESS sends the letters to you)"
        )


def first_send(journal: Journal | None) -> bool:
    """Nothing was ever sent from this output folder."""
    return journal is None or not any(entry.state == "sent" for entry in journal.entries())


def question(planned: Sequence[Outgoing], server: str) -> str:
    """The prompt of a real send: how many, to whom, via which server."""
    names = ", ".join(f"{item.recipient} <{item.rcpt}>" for item in planned[:SHOWN])
    more = f" and {len(planned) - SHOWN} more" if len(planned) > SHOWN else ""
    count = len(planned)
    return (
        f"Send {count} message(s) to the real recipients ({names}{more}) via {server}? "
        f"Type {count} to send them"
    )


def confirm_send(
    planned: Sequence[Outgoing],
    server: str,
    *,
    first: bool,
    chosen: bool,
    yes: bool,
    confirm: Callable[[str], str] | None,
) -> None:
    """Go ahead, or raise: `confirm` asks the person at the terminal (None: there is
    none); `chosen` says the recipients were picked with --to."""
    if yes or not planned:
        return
    count = len(planned)
    if confirm is None:
        if first and count > 1 and not chosen:
            raise SendRefused(
                f"not sent: this first real send would go to {count} recipients and cannot "
                "be confirmed (standard input is not a terminal); give --yes to send them "
                "all, or --to to choose recipients (--test-to YOUR-ADDRESS sends them to "
                "you first)"
            )
        return
    answer = confirm(question(planned, server)).strip()
    if answer != str(count):
        raise SendCancelled(
            f"not sent: the answer was {answer[:20]!r}, not {count}; nothing was sent "
            "(run the same command again to send)"
        )
