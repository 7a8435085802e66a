"""The Typer app, its options shared by commands, and `main()`: the one place where an
`AdvocacyError` becomes one red line and its exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import advocacy

from ..errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, AdvocacyError
from .console import err, escape

if TYPE_CHECKING:
    from ..campaign.model import Campaign

app = typer.Typer(
    help="Turn a resolution's demands into localized letters to governments: "
    "print-ready PDF and email.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: rich's help formatter costs ~150 ms of start-up on every --help.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


CampaignArg = Annotated[
    Path | None,
    typer.Argument(
        help="Campaign folder with campaign.toml. Default: the nearest folder at or above "
        "the current one that has one, else the bundled example campaign.",
        show_default=False,
    ),
]


def open_campaign(campaign: Path | None, *, quiet: bool = False) -> Campaign:
    from ..campaign.discovery import bundled_notice
    from ..campaign.discovery import open_campaign as do_open

    opened = do_open(campaign)
    if opened.defaulted and not quiet:
        err.print(bundled_notice(), markup=False, highlight=False)
    return opened


def output_folder(campaign: Campaign, given: Path | None) -> Path:
    """--out, or the campaign's own letters folder."""
    from ..campaign.discovery import default_output

    return given if given is not None else default_output(campaign)


OutArg = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Output folder for letters, manifest.json and the send journal. Default: "
        "letters/ in the campaign folder (./letters for the bundled example).",
        show_default=False,
    ),
]


def main() -> None:
    """Entry point: run the app and turn every failure into one line and an exit code."""
    # A terminal that is not UTF-8 (LANG=de_DE.ISO-8859-1) shows "?" for what it
    # cannot show, rather than a UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() not in (
            "utf-8",
            "utf8",
        ):
            stream.reconfigure(errors="replace")
    # --debug anywhere on the line (`advocacy render --debug`), not only first.
    args = sys.argv[1:]
    debug = "--debug" in args
    args = [arg for arg in args if arg != "--debug"]
    _state["debug"] = debug
    try:
        if args and not {"-h", "--help", "--version"} & set(args):
            from ..runtime import require_email_fix

            require_email_fix()
        from .shape import shape

        command = shape(typer.main.get_command(app))
        # Without standalone mode click returns the exit code of Ctrl-C (130)
        # and of typer.Exit instead of exiting.
        code = command.main(args=args, prog_name="advocacy", standalone_mode=False)
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


AllowFallback = Annotated[
    bool,
    typer.Option(
        "--allow-fallback",
        help="Write letters whose translation lacks new or changed sentences in the "
        "fallback language (default: they are not made, and the run says what to translate).",
    ),
]

Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only errors and the summary, no warnings."),
]


FollowUp = Annotated[
    bool,
    typer.Option(
        "--follow-up",
        help="Follow-up letters, in <out>/follow-up/, to the offices with no reply after "
        "--after (templates/followup.html.j2, else the bundled default).",
    ),
]

After = Annotated[
    str, typer.Option("--after", help="With --follow-up: how long without a reply (30d, 4w).")
]

CaFile = Annotated[
    Path | None,
    typer.Option("--cafile", help="Trust this CA or self-signed server certificate (PEM)."),
]
