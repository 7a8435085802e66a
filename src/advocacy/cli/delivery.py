"""`advocacy send` and `advocacy status`: parse the options, call the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import (
    After,
    AllowFallback,
    CaFile,
    CampaignArg,
    FollowUp,
    OutArg,
    Quiet,
    app,
    open_campaign,
    output_folder,
)
from .console import (
    ConsoleReporter,
    SendProgress,
    out,
    print_letter_states,
    print_send,
    print_status,
)

if TYPE_CHECKING:
    from ..campaign.model import Campaign


def _ask_password(prompt: str) -> str:
    return str(typer.prompt(prompt, hide_input=True))


@app.command()
def send(
    campaign: CampaignArg = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Only these recipients: an id, a country code or tag:NAME."),
    ] = None,
    out_dir: OutArg = None,
    smtp: Annotated[
        str | None,
        typer.Option(
            "--smtp",
            help="Mail server: smtp://user@host:587 (STARTTLS), smtps://user@host:465, or "
            "smtp+plain://127.0.0.1:25 (no TLS, this machine only). Default: smtp.url in "
            "campaign.toml. "
            "The password comes from ADVOCACY_SMTP_PASSWORD or a prompt.",
        ),
    ] = None,
    mail_from: Annotated[
        str | None,
        typer.Option("--from", help="From address (or 'Name <address>'); default: sender.email."),
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option("--rate", help="At most this many messages, e.g. 30/min, 2/s, 600/h."),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option(
            "--connections",
            help="Parallel SMTP sessions at most (default 3): the run starts with one and "
            "opens another after each message sent, and uses fewer when the server refuses.",
            min=1,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Send at most this many messages in this run.", min=0),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--no-dry-run",
            help="Show what would go to whom and the first message, and send nothing "
            "(the default). --no-dry-run sends.",
        ),
    ] = True,
    really: Annotated[bool, typer.Option("--send", help="Send: the same as --no-dry-run.")] = False,
    test_to: Annotated[
        str | None,
        typer.Option(
            "--test-to",
            help="Send every selected letter (or --limit N) to this address of yours instead, "
            "the subject naming the real recipient; test copies never count as sent.",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="Send for real without asking to confirm the count (for scripts)."
        ),
    ] = False,
    via: Annotated[
        Path | None,
        typer.Option(
            "--via",
            help="Relay: a CSV (match, name, email, language); each group gets one message "
            "with the PDF letters of the recipients it matches, to print and deliver.",
        ),
    ] = None,
    retry_unknown: Annotated[
        bool,
        typer.Option(
            "--retry-unknown",
            help="Also send messages left 'sending' by a run that died (they may have arrived).",
        ),
    ] = False,
    resend_changed: Annotated[
        bool,
        typer.Option("--resend-changed", help="Send letters again that changed since sent."),
    ] = False,
    no_attach_pdf: Annotated[
        bool, typer.Option("--no-attach-pdf", help="Send the letters without the PDF.")
    ] = False,
    cafile: CaFile = None,
    journal_lost: Annotated[
        bool,
        typer.Option(
            "--journal-lost",
            help="Send although the journal is missing or damaged after letters were sent "
            "from this folder (they go again); a damaged journal is set aside, not deleted.",
        ),
    ] = False,
    retries: Annotated[
        int,
        typer.Option("--retries", help="Tries after a 4xx reply or a lost connection.", min=0),
    ] = 4,
    backoff: Annotated[
        float,
        typer.Option("--backoff", help="Seconds before the first retry; doubled each time."),
    ] = 2.0,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds the server has for each whole reply, however it spreads the bytes "
            "(and for taking each message); a reply above 64 KB ends the run. A server that "
            "accepts the connection and then says nothing fails the run after this long. "
            "Default 30.",
            min=1,
        ),
    ] = 30.0,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Write every letter in this language.")
    ] = None,
    allow_fallback: AllowFallback = False,
    quiet: Quiet = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    follow_up: FollowUp = False,
    after: After = "30d",
) -> None:
    """Email each letter to its recipient, exactly once (a dry run unless --no-dry-run).

    Renders what is missing first, keeps a journal in the output folder, and on a
    rerun sends only what is not yet sent.
    """
    from ..send.run import SendOptions
    from ..send.run import send as do_send

    opened = open_campaign(campaign, quiet=quiet)
    folder, selectors = output_folder(opened, out_dir), to or []
    if follow_up:  # the follow-ups due, from <out>/follow-up/, threaded to the first letters
        from ..track.followup import plan
        from ..track.states import parse_period

        due = plan(opened, folder, parse_period(after), selectors)
        opened, folder, selectors = due.campaign, due.out, due.recipients
    options = SendOptions(
        selectors=selectors,
        out=folder,
        smtp_url=smtp or "",
        mail_from=mail_from or "",
        rate=rate or "",
        connections=connections,
        limit=limit,
        dry_run=dry_run and not really,
        via=via,
        retry_unknown=retry_unknown,
        resend_changed=resend_changed,
        attach_pdf=not no_attach_pdf,
        cafile=cafile,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        language=lang,
        allow_fallback=allow_fallback,
        test_to=test_to or "",
        yes=yes,
        journal_lost=journal_lost,
    )
    rendering = ConsoleReporter(show_progress=not as_json, quiet=quiet)
    sending = SendProgress(not as_json, rendering)

    def confirm(question: str) -> str:
        rendering.stop()  # the question must not be drawn over by the progress bar
        # On stderr: stdout stays the summary (or the JSON of --json).
        return str(typer.prompt(question, default="", show_default=False, err=True))

    terminal = sys.stdin.isatty()
    try:
        summary = do_send(
            opened,
            options,
            rendering,
            sending,
            _ask_password if terminal else None,
            confirm if terminal else None,
        )
    finally:
        rendering.stop()
        sending.stop()
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        print_send(summary)
    failure = summary.failure()
    if failure is not None:
        raise failure


@app.command()
def status(
    campaign: CampaignArg = None,
    out_dir: OutArg = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print counts and messages as JSON.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print every message with its state as CSV.")
    ] = False,
) -> None:
    """Show the send journal: counts by state, failed and unknown messages, replies."""
    from ..send.status import recorded_campaign
    from ..send.status import status as read_status
    from ..track.states import letters

    opened: Campaign | None
    if out_dir is None:
        opened = open_campaign(campaign)
        folder_out = output_folder(opened, None)
        report = read_status(opened, folder_out)
    else:
        # Without a campaign given: the one the journal was last sent from, if still there.
        folder = campaign if campaign is not None else recorded_campaign(out_dir)
        opened = open_campaign(folder) if folder is not None else None
        folder_out = out_dir
        report = read_status(opened, out_dir)
    tracked = letters(opened, folder_out)  # every letter's state: sent, bounced, replied...
    if as_json:
        data = report.as_json()
        data["letters"] = [{"id": item.id, "state": item.state} for item in tracked]
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    if as_csv:
        import csv

        rows = report.csv_rows()
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["key"])
        writer.writeheader()
        writer.writerows(rows)
        return
    print_status(report)
    print_letter_states(tracked)
