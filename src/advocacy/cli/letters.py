"""`advocacy render` and `advocacy preview`: parse the options, call the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import (
    After,
    AllowFallback,
    CampaignArg,
    FollowUp,
    OutArg,
    Quiet,
    app,
    open_campaign,
    output_folder,
)
from .console import ConsoleReporter, out, print_letter


@app.command()
def render(
    campaign: CampaignArg = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="Only these recipients: an id (us-dos), a country code (de) or tag:NAME. "
            "Repeatable.",
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Write every letter in this language.")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="Output format: pdf (default), html, eml (one email per letter, the PDF "
            "attached) or mbox (all emails in letters.mbox). Repeatable.",
        ),
    ] = None,
    no_attach_pdf: Annotated[
        bool,
        typer.Option("--no-attach-pdf", help="Email letters (eml, mbox) without the PDF."),
    ] = False,
    out_dir: OutArg = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Render every letter, also unchanged ones, and write into an output folder "
            "that advocacy did not make.",
        ),
    ] = False,
    pdf_variant: Annotated[
        str,
        typer.Option(
            "--pdf-variant",
            help="PDF variant: pdf/ua-1 (tagged, accessible; default), a PDF/A variant such "
            "as pdf/a-3b, or none.",
        ),
    ] = "pdf/ua-1",
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes. Default: one per CPU.", min=1),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="Render only a stable K/N share of the letters (by recipient id), e.g. 2/4, "
            "so that N machines can share one campaign. 'auto' (or auto/N) reads the share "
            "from a Kubernetes Indexed Job or a Slurm array; env:INDEX/COUNT from two "
            "variables (a 0-based index and the count). See docs/scale.md.",
        ),
    ] = None,
    merge: Annotated[
        list[Path] | None,
        typer.Option(
            "--merge",
            help="Instead of rendering, copy the letters of these shard output folders into "
            "--out with one manifest. Repeatable.",
        ),
    ] = None,
    allow_fallback: AllowFallback = False,
    quiet: Quiet = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    allow_no_address: Annotated[
        bool,
        typer.Option(
            "--allow-no-address",
            help="Render letters that have no checked address, with an ADDRESS MISSING mark "
            "in the window (default: campaign.toml [render] no_address, else they fail).",
        ),
    ] = False,
    follow_up: FollowUp = False,
    after: After = "30d",
) -> None:
    """Render one letter per recipient into a folder: PDF ready to print, plus a manifest.

    Letters whose inputs did not change since the last render are skipped.
    """
    from ..render.batch import RenderOptions
    from ..render.batch import merge as do_merge
    from ..render.batch import render as do_render

    if merge:
        target = out_dir or Path("letters")
        merged = do_merge(merge, target)
        out.print(f"Merged {len(merged)} letter(s) from {len(merge)} folder(s) into {target}/")
        return
    opened = open_campaign(campaign, quiet=quiet)
    folder, selectors = output_folder(opened, out_dir), to or []
    if follow_up:
        from ..track.followup import plan
        from ..track.states import parse_period

        due = plan(opened, folder, parse_period(after), selectors)
        opened, folder, selectors = due.campaign, due.out, due.recipients
    reporter = ConsoleReporter(show_progress=not as_json, quiet=quiet)
    options = RenderOptions(
        selectors=selectors,
        formats=fmt or ["pdf"],
        out=folder,
        force=force,
        pdf_variant=pdf_variant,
        language=lang,
        jobs=jobs,
        shard=shard,
        attach_pdf=not no_attach_pdf,
        allow_fallback=allow_fallback,
        no_address="mark" if allow_no_address else None,
    )
    try:
        summary = do_render(opened, options, reporter)
    finally:
        reporter.stop()
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        out.print(summary.headline())
    failure = summary.failure()
    if failure is not None:
        raise failure


@app.command()
def preview(
    campaign: CampaignArg = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The recipient to show: an id (de-mfa), a country code or tag:NAME; "
            "default: the first one. With --serve: the letter the page opens on.",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Write the letter in this language (or 'bilingual')."),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Show every letter in a local web page that follows your edits as you save.",
        ),
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address the page listens on (with --serve). Only change it to share drafts "
            "on a network you trust.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", help="Port of the page (with --serve); 0 picks a free one."),
    ] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in your web browser (with --serve).")
    ] = False,
) -> None:
    """Read a letter before printing: one in the terminal, or all of them in a browser."""
    if serve:
        import webbrowser
        from urllib.parse import quote

        from ..preview.server import ServeOptions, start_server

        server = start_server(ServeOptions(campaign=campaign, host=host, port=port, language=lang))
        url = server.url + (f"#to={quote(to)}" if to else "")
        try:
            out.print(f"Previewing {server.workspace.root} at {url} (Ctrl-C to stop)", markup=False)
            if open_browser:
                webbrowser.open(url)
            server.serve_forever()
        except KeyboardInterrupt:
            # Typer turns a KeyboardInterrupt inside a command into a return value
            # that main() does not see; Abort reaches main()'s exit 130.
            raise typer.Abort() from None
        finally:
            server.close()
        return

    from ..preview.terminal import preview_letter

    print_letter(preview_letter(open_campaign(campaign), [to] if to else [], language=lang))
