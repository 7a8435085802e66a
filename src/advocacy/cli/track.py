"""`advocacy inbox`, `advocacy log` and `advocacy report`: parse, call track/, show."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import BadInput
from .app import CaFile, CampaignArg, OutArg, app, open_campaign, output_folder
from .console import escape, out

AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]


def _ask_password(prompt: str) -> str:
    return str(typer.prompt(prompt, hide_input=True, err=True))


@app.command()
def inbox(
    campaign: CampaignArg = None,
    out_dir: OutArg = None,
    imap: Annotated[
        str | None,
        typer.Option(
            "--imap",
            help="imaps://user@host/INBOX (or imap://... with STARTTLS). The password "
            "comes from ADVOCACY_IMAP_PASSWORD or a prompt.",
        ),
    ] = None,
    maildir: Annotated[Path | None, typer.Option("--maildir", help="Read a Maildir.")] = None,
    mbox: Annotated[Path | None, typer.Option("--mbox", help="Read an mbox file.")] = None,
    move_to: Annotated[
        str | None,
        typer.Option(
            "--move-to",
            help="Move the bounces and replies recorded into this folder (default: "
            "nothing is moved or deleted).",
        ),
    ] = None,
    cafile: CaFile = None,
    as_json: AsJson = False,
) -> None:
    """Record bounces and replies to the letters from a mailbox; a rerun adds nothing twice."""
    from ..track.inbox import read_inbox
    from ..track.mailboxes import ImapSource, MaildirSource, MboxSource, Source

    given = [name for name, v in (("--imap", imap), ("--maildir", maildir), ("--mbox", mbox)) if v]
    if len(given) != 1:
        raise BadInput("inbox: give one of --imap URL, --maildir DIR or --mbox FILE")
    if move_to and mbox:
        raise BadInput("inbox: --move-to works with --imap and --maildir, not with --mbox")
    opened = open_campaign(campaign, quiet=as_json)
    source: Source
    if imap:
        ask = _ask_password if sys.stdin.isatty() else None
        source = ImapSource(imap, ask, cafile=cafile, writable=bool(move_to))
    elif maildir:
        source = MaildirSource(maildir)
    else:
        assert mbox is not None
        source = MboxSource(mbox)
    try:
        summary = read_inbox(
            output_folder(opened, out_dir), source, opened.config.campaign.reference, move_to or ""
        )
    finally:
        source.close()
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    out.print(
        escape(
            f"{summary.source}: read {summary.read} mail(s): {len(summary.bounced)} bounced, "
            f"{len(summary.replied)} replied, {summary.unrelated} unrelated, "
            f"{summary.seen_before} seen before"
            + (f"; moved {summary.moved}" if summary.moved else "")
        )
    )
    for event in summary.bounced:
        out.print(escape(f"  bounced  {event.recipient}  {event.code}  {event.detail}"))
    for event in summary.replied:
        out.print(escape(f"  replied  {event.recipient}  {event.on_date}  {event.detail}"))


@app.command("log")
def log_command(
    event: Annotated[
        str | None, typer.Argument(help="delivered, posted or reply.", show_default=False)
    ] = None,
    recipient: Annotated[
        str | None, typer.Argument(help="The recipient's id (de-mfa).", show_default=False)
    ] = None,
    campaign: Annotated[
        Path | None, typer.Option("--campaign", help="Campaign folder (default: as for render).")
    ] = None,
    out_dir: OutArg = None,
    on: Annotated[str | None, typer.Option("--on", help="The day it happened: YYYY-MM-DD.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who delivered it.")] = "",
    how: Annotated[str, typer.Option("--how", help="hand, post, courier, fax...")] = "",
    note: Annotated[str, typer.Option("--note", help="Anything worth keeping.")] = "",
    file: Annotated[
        Path | None, typer.Option("--file", help="A scan or copy of a postal reply, kept.")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Record every row of this CSV (id,reference,name,event,on,by,how,note)."
        ),
    ] = None,
) -> None:
    """Record what happened on paper: a letter delivered or posted, a postal reply."""
    from ..track.deliveries import Entry, log_csv, log_one, parse_day

    opened = open_campaign(campaign)
    folder = output_folder(opened, out_dir)
    known = {r.id for r in opened.recipients}
    prefix = opened.config.campaign.reference
    if csv_file is not None:
        if event or recipient:
            raise BadInput("log: give either --csv FILE or EVENT ID, not both")
        added, before = log_csv(folder, csv_file, known, prefix)
        out.print(escape(f"{csv_file}: recorded {added} entr(ies), {before} recorded before"))
        return
    if not (event and recipient and on):
        raise BadInput("log: give EVENT ID --on YYYY-MM-DD (or --csv FILE)")
    entry = Entry(recipient, event.lower(), parse_day(on, "--on"), by, how, note, file)
    new = log_one(folder, entry, known)
    out.print(
        escape(f"{recipient}: {event} on {on} " + ("recorded" if new else "was recorded before"))
    )


@app.command()
def report(
    campaign: CampaignArg = None,
    out_dir: OutArg = None,
    after: Annotated[
        str, typer.Option("--after", help="List the offices with no reply after this long (30d).")
    ] = "30d",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf.")] = False,
    by: Annotated[
        str, typer.Option("--by", help="Chart the states per country or per tag.")
    ] = "country",
    include_replies: Annotated[
        bool,
        typer.Option("--include-replies", help="Show the text of the replies in the report."),
    ] = False,
) -> None:
    """Write report.html (and report.pdf): states, a chart, one row per recipient."""
    from ..track.report import write_report
    from ..track.states import parse_period

    opened = open_campaign(campaign)
    written = write_report(
        opened,
        output_folder(opened, out_dir),
        after_days=parse_period(after),
        pdf=pdf,
        by=by,
        include_replies=include_replies,
    )
    for path in written:
        out.print(escape(f"wrote {path}"))
