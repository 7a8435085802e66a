"""Command line: parse options, call the library, map errors to exit codes.

The only module that imports typer or prints; every `AdvocacyError` becomes
one red line and its exit code here, in `main()`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from .send.run import SendSummary

import advocacy

from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, AdvocacyError

app = typer.Typer(
    help="Turn a resolution's demands into localized letters to governments: "
    "print-ready PDF and email.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: rich's help formatter costs ~150 ms of start-up on every --help.
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich Console made on first use: `advocacy --help` need not import rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        """The real Console, for rich objects that need one (a Progress enters it)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


err: Any = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)
out: Any = _LazyConsole(highlight=False, soft_wrap=True)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advocacy {advocacy.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when something fails.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Turn a resolution's demands into localized letters to governments."""
    _state["debug"] = debug


class ConsoleReporter:
    """Progress bar on a terminal, nothing in a pipe; warnings as single lines."""

    label = "rendering"

    def __init__(self, show_progress: bool) -> None:
        self.progress: Progress | None = None
        self.task: Any = None
        self.show_progress = show_progress

    def start(self, total: int) -> None:
        if self.show_progress and err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=err.get(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=total)

    def advance(self, recipient_id: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=recipient_id)

    def warn(self, message: str) -> None:
        err.print(f"[yellow]warning:[/] {escape(message)}", markup=True, highlight=False)

    def fail(self, recipient_id: str, message: str) -> None:
        err.print(f"[red]failed:[/] {escape(message)}", markup=True, highlight=False)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


CampaignArg = Annotated[
    Path | None,
    typer.Argument(
        help="Campaign folder with campaign.toml. Default: the current folder if it has "
        "one, else the bundled campaign.",
        show_default=False,
    ),
]


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
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder for letters and manifest.json.")
    ] = Path("letters"),
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
            "so that N machines can share one campaign.",
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Render one letter per recipient into a folder: PDF ready to print, plus a manifest.

    Letters whose inputs did not change since the last render are skipped.
    """
    from .campaign.discovery import open_campaign
    from .render.batch import RenderOptions
    from .render.batch import merge as do_merge
    from .render.batch import render as do_render

    if merge:
        merged = do_merge(merge, out_dir)
        out.print(f"Merged {len(merged)} letter(s) from {len(merge)} folder(s) into {out_dir}/")
        return
    reporter = ConsoleReporter(show_progress=not as_json)
    options = RenderOptions(
        selectors=to or [],
        formats=fmt or ["pdf"],
        out=out_dir,
        force=force,
        pdf_variant=pdf_variant,
        language=lang,
        jobs=jobs,
        shard=shard,
        attach_pdf=not no_attach_pdf,
    )
    opened = open_campaign(campaign)
    try:
        summary = do_render(opened, options, reporter)
    finally:
        reporter.stop()
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        files = sum(len(e.files) for e in summary.letters)
        per = summary.seconds / len(summary.letters) if summary.letters else 0.0
        out.print(
            f"Rendered {len(summary.letters)} letter(s), {files} file(s) into {summary.out}/ "
            f"in {summary.seconds:.1f} s ({per:.2f} s per letter, {summary.jobs} process(es)); "
            f"{len(summary.skipped)} unchanged, {len(summary.failed)} failed; "
            f"{len(summary.warnings)} warning(s)."
        )
    failure = summary.failure()
    if failure is not None:
        raise failure


def main() -> None:
    """Entry point: run the app and turn every failure into one line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        # Without standalone mode typer returns the exit code of Ctrl-C (130)
        # and of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            if code == EXIT_INTERRUPTED:
                err.print("[red]interrupted[/]", markup=True)
            sys.exit(code)
    except AdvocacyError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("[red]interrupted[/]", markup=True)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Abort:
        err.print("[red]aborted[/]", markup=True)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        code = getattr(exc, "exit_code", EXIT_BAD_INPUT)
        sys.exit(EXIT_BAD_INPUT if code in (1, 2) else code)


translations_app = typer.Typer(
    help="Work on a campaign's translations (gettext catalogs under locales/).",
    no_args_is_help=True,
)
app.add_typer(translations_app, name="translations")


def _load(campaign: Path | None) -> Any:
    from .campaign.discovery import open_campaign

    return open_campaign(campaign)


@translations_app.command("status")
def translations_status(
    campaign: CampaignArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Show each language: strings translated of the total, fuzzy ones, review state."""
    from rich.table import Table

    from .campaign.translations import status

    rows = status(_load(campaign))
    if as_json:
        out.print_json(json.dumps([row.as_json() for row in rows], ensure_ascii=False))
        return
    table = Table("language", "name", "translated", "fuzzy", "review", "complete")
    for row in rows:
        table.add_row(
            row.language,
            row.name,
            f"{row.translated}/{row.total}",
            str(row.fuzzy),
            row.review,
            "yes" if row.complete else "no: letters fall back",
        )
    out.print(table)


@translations_app.command("extract")
def translations_extract(campaign: CampaignArg = None) -> None:
    """Collect every translatable string into locales/messages.pot."""
    from .campaign.translations import extract_pot

    c = _load(campaign)
    path = extract_pot(c)
    out.print(f"Wrote {path.relative_to(c.root)}")


@translations_app.command("update")
def translations_update(
    campaign: CampaignArg = None,
    lang: Annotated[
        list[str] | None,
        typer.Option("--lang", help="Also start a catalog for this language. Repeatable."),
    ] = None,
) -> None:
    """Merge new and changed strings into every catalog (new ones start empty)."""
    from .campaign.translations import update

    done = update(_load(campaign), lang or [])
    out.print(f"Updated {len(done)} catalog(s): {', '.join(done) or 'none'}")


@translations_app.command("compile")
def translations_compile(campaign: CampaignArg = None) -> None:
    """Check every translation's placeholders and markup, and write the .mo files."""
    from .campaign.translations import compile_all

    done = compile_all(_load(campaign))
    out.print(f"Compiled {len(done)} catalog(s): {', '.join(done) or 'none'}")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the campaign in.")],
    force: Annotated[
        bool, typer.Option("--force", help="Copy into a folder that is not empty.")
    ] = False,
) -> None:
    """Copy the bundled campaign into DIRECTORY to make it your own."""
    from .campaign.scaffold import init_campaign

    written = init_campaign(directory, force=force)
    out.print(f"Created a campaign in {directory}/: {', '.join(p.name for p in written)}")
    out.print("Next:")
    out.print(f"  1. edit {directory}/campaign.toml (your sender, signature, demands)")
    out.print(f"  2. advocacy recipients check {directory}")
    out.print(f"  3. advocacy render {directory} --out {directory}/letters")


recipients_app = typer.Typer(help="List and check a campaign's recipients.", no_args_is_help=True)
app.add_typer(recipients_app, name="recipients")


@recipients_app.command("list")
def recipients_list(
    campaign: CampaignArg = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Only these recipients: an id, a country code or tag:NAME."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """Show every recipient: id, country, organisation, language, paper, email, verified."""
    from rich.table import Table

    from .campaign.selection import select

    c = _load(campaign)
    chosen = select(c.recipients, to or [])
    rows = [
        {
            "id": r.id,
            "country": r.country,
            "organisation": r.text(r.organisation, r.languages),
            "language": r.primary_language,
            "paper": r.paper_size,
            "email": bool(r.email),
            "verified": r.verified if r.verified else False,
        }
        for r in chosen
    ]
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table("id", "country", "organisation", "language", "paper", "email", "verified")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["country"]),
            str(row["organisation"]),
            str(row["language"]),
            str(row["paper"]),
            "yes" if row["email"] else "no",
            str(row["verified"]) if row["verified"] else "no",
        )
    out.print(table)
    out.print(f"{len(rows)} recipient(s)")


@recipients_app.command("check")
def recipients_check(
    campaign: CampaignArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check every list before a rally; exit 1 when something blocks rendering."""
    from .errors import BadInput, CheckFailed
    from .letter.checks import check

    try:
        report = check(_load(campaign))
    except BadInput as exc:
        raise CheckFailed(str(exc)) from None
    if as_json:
        data = {
            "recipients": report.recipients,
            "findings": [f.as_json() for f in report.findings],
        }
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    for finding in report.findings:
        out.print(f"{finding.recipient}: {finding.kind}: {escape(finding.message)}")
    kinds: dict[str, int] = {}
    for finding in report.findings:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing to fix"
    out.print(f"{report.recipients} recipient(s) checked: {counts}; nothing blocks rendering.")


_BLOCK_STYLES = {"subject": "bold", "heading": "bold", "note": "red", "date": "", "address": ""}


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

        from .preview.server import ServeOptions, start_server

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

    from rich.rule import Rule
    from rich.text import Text

    from .preview.terminal import preview_letter

    letter = preview_letter(campaign, [to] if to else [], language=lang)
    width = max(out.width, 40)
    facts = {
        "Recipient": f"{letter.recipient_id} — {letter.organisation} ({letter.country})",
        "Language": f"{letter.language} ({letter.language_name}, {letter.review})",
        "Paper": letter.paper,
        "Subject": letter.subject,
        "From": letter.sender,
    }
    for label, value in facts.items():
        out.print(Text.assemble((f"{label:<11}", "bold"), _wrap(value, width, 11)[11:]))
    out.print(Rule(style="dim"))
    for block in letter.blocks:
        indent = len(block.marker) + 1 if block.marker else 0
        text = _wrap(block.text, width, indent)
        if block.marker:
            text = f"{block.marker} " + text[indent:]
        out.print(Text(text, style=_BLOCK_STYLES.get(block.kind, "")))
        out.print()
    out.print(Rule(style="dim"))
    for warning in letter.warnings:
        out.print(Text.assemble(("warning: ", "yellow"), _wrap(warning.message, width, 9)[9:]))
    if letter.others:
        listed = ", ".join(f"{rid} ({language})" for rid, language in letter.others)
        more = f"{len(letter.others)} other letter(s): {listed}; see one with --to ID"
        out.print(Text(_wrap(more, width)))


def _wrap(text: str, width: int, indent: int = 0) -> str:
    """Each line of `text` filled to the terminal, indented by `indent` (hanging for items);
    textwrap rather than rich's wrapping keeps lines free of trailing blanks."""
    import textwrap

    pad = " " * indent
    return "\n".join(
        textwrap.fill(line, width=width, initial_indent=pad, subsequent_indent=pad)
        for line in text.split("\n")
    )


class _SendProgress(ConsoleReporter):
    """The sending bar; it takes over the terminal from the rendering bar."""

    def __init__(self, show_progress: bool, rendering: ConsoleReporter) -> None:
        super().__init__(show_progress)
        self.rendering = rendering

    label = "sending"

    def start(self, total: int) -> None:
        self.rendering.stop()
        super().start(total)


def _ask_password(prompt: str) -> str:
    return str(typer.prompt(prompt, hide_input=True))


@app.command()
def send(
    campaign: CampaignArg = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Only these recipients: an id, a country code or tag:NAME."),
    ] = None,
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="The output folder of render; the journal is kept there."),
    ] = Path("letters"),
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
        typer.Option("--connections", help="Parallel SMTP sessions (default 3).", min=1),
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
    cafile: Annotated[
        Path | None,
        typer.Option("--cafile", help="Trust this CA or self-signed server certificate (PEM)."),
    ] = None,
    retries: Annotated[
        int,
        typer.Option("--retries", help="Tries after a 4xx reply or a lost connection.", min=0),
    ] = 4,
    backoff: Annotated[
        float,
        typer.Option("--backoff", help="Seconds before the first retry; doubled each time."),
    ] = 2.0,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Write every letter in this language.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Email each letter to its recipient, exactly once (a dry run unless --no-dry-run).

    Renders what is missing first, keeps a journal in the output folder, and on a
    rerun sends only what is not yet sent.
    """
    from .campaign.discovery import open_campaign
    from .send.run import SendOptions
    from .send.run import send as do_send

    options = SendOptions(
        selectors=to or [],
        out=out_dir,
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
        language=lang,
    )
    rendering = ConsoleReporter(show_progress=not as_json)
    sending = _SendProgress(not as_json, rendering)
    ask = _ask_password if sys.stdin.isatty() else None
    opened = open_campaign(campaign)
    try:
        summary = do_send(opened, options, rendering, sending, ask)
    finally:
        rendering.stop()
        sending.stop()
    if as_json:
        out.print_json(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        _print_send(summary)
    failure = summary.failure()
    if failure is not None:
        raise failure


def _print_send(summary: SendSummary) -> None:
    from rich.table import Table

    skipped = (
        f"{len(summary.already_sent)} already sent, {len(summary.unknown)} unknown, "
        f"{len(summary.changed)} changed since sent, {len(summary.no_email)} without email"
    )
    if not summary.dry_run:
        results = summary.results
        rate = len(results["sent"]) / summary.seconds if summary.seconds else 0.0
        out.print(
            f"Sent {len(results['sent'])} message(s) via {escape(summary.server)} in "
            f"{summary.seconds:.1f} s ({rate:.1f}/s); {len(results['deferred'])} deferred, "
            f"{len(results['failed'])} failed; {skipped}."
        )
        return
    table = Table("recipient", "to", "language", "size", "attachment")
    for item in summary.planned:
        attached = ", ".join(Path(name).name for name in item.attachments) or "none"
        table.add_row(
            escape(item.recipient),
            escape(item.to),
            item.language,
            f"{item.size / 1024:.0f} KB",
            escape(attached),
        )
    if summary.planned:
        out.print(table)
        out.print("First message:", style="bold")
        out.print(escape(summary.first_message), highlight=False)
    server = summary.server or "no server set (give --smtp, or smtp.url in campaign.toml)"
    out.print(
        f"Dry run: nothing was sent. {len(summary.planned)} message(s) would go via "
        f"{escape(server)}; {skipped}. Send them with --no-dry-run."
    )


@app.command()
def status(
    campaign: CampaignArg = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="The output folder that 'advocacy send' used.")
    ] = Path("letters"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print counts and messages as JSON.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print every message with its state as CSV.")
    ] = False,
) -> None:
    """Show the send journal: counts by state, failed and unknown messages, replies."""
    from .campaign.discovery import open_campaign
    from .send.status import recorded_campaign
    from .send.status import status as read_status

    # Without a campaign given: the one the journal was last sent from, if it is still there.
    folder = campaign if campaign is not None else recorded_campaign(out_dir)
    report = read_status(open_campaign(folder) if folder is not None else None, out_dir)
    if as_json:
        out.print_json(json.dumps(report.as_json(), ensure_ascii=False))
        return
    if as_csv:
        import csv

        rows = report.rows()
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["key"])
        writer.writeheader()
        writer.writerows(rows)
        return
    counts = ", ".join(f"{n} {state}" for state, n in report.counts().items() if n)
    out.print(escape(f"{report.journal}: {counts or 'empty'}"))
    for entry in report.problems():
        reply = entry.reply or "no reply: the run stopped mid-message"
        out.print(
            escape(
                f"{entry.key} <{entry.email}>: {report.state(entry)} after {entry.attempts} "
                f"attempt(s): {reply}"
            )
        )
