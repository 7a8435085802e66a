"""`advocacy print`: parse the options, call printset/build.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import AllowFallback, CampaignArg, OutArg, Quiet, app, open_campaign, output_folder
from .console import ConsoleReporter, out


@app.command("print")
def print_set(
    campaign: CampaignArg = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to", help="Only these recipients: an id, a country code or tag:NAME. Repeatable."
        ),
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="One combined PDF and checklist per country, relay group (with --via), "
            "letter language, or none (everything in one).",
        ),
    ] = "country",
    duplex: Annotated[
        bool,
        typer.Option(
            "--duplex", help="Printed on both sides: every letter starts on a front side."
        ),
    ] = False,
    envelope: Annotated[
        str,
        typer.Option("--envelope", help="Envelopes to print: dl, c5, c4, no10 or none."),
    ] = "none",
    labels: Annotated[
        str, typer.Option("--labels", help="Address labels: l7163 (A4), 5160 (Letter) or none.")
    ] = "none",
    skip: Annotated[
        int,
        typer.Option("--skip", help="Labels already used on the first sheet: start at N+1.", min=0),
    ] = 0,
    via: Annotated[
        Path | None,
        typer.Option("--via", help="The relay list (groups.csv), for --by group."),
    ] = None,
    out_dir: OutArg = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes. Default: one per CPU.", min=1),
    ] = None,
    allow_fallback: AllowFallback = False,
    quiet: Quiet = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Make the print set: combined PDFs per batch, envelopes or labels, and checklists.

    Renders what is missing first, then writes print/ inside the letters' folder.
    """
    from ..printset.build import PrintOptions, build_print_set

    opened = open_campaign(campaign, quiet=quiet)
    reporter = ConsoleReporter(show_progress=not as_json, quiet=quiet)
    options = PrintOptions(
        selectors=to or [],
        out=output_folder(opened, out_dir),
        by=by,
        duplex=duplex,
        envelope=envelope,
        labels=labels,
        skip=skip,
        groups=via,
        jobs=jobs,
        allow_fallback=allow_fallback,
    )
    try:
        summary = build_print_set(opened, options, reporter)
    finally:
        reporter.stop()
    from ..track.deliveries import record_printed

    # The delivery loop's "printed" state (track sits above printset: recorded here).
    record_printed(options.out, summary.printed, "print")
    if not quiet and not as_json:
        for message in summary.warnings:
            out.print(f"warning: {message}", markup=False)
        for recipient, why in summary.left_out:
            out.print(f"left out: {recipient}: {why}", markup=False)
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        out.print(summary.headline(), markup=False)
