"""`advocacy init`, `advocacy recipients` and `advocacy translations`: parse the
options, call the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import CampaignArg, app, open_campaign
from .console import out, print_check, print_recipients, print_translations

translations_app = typer.Typer(
    help="Work on a campaign's translations (gettext catalogs under locales/).",
    no_args_is_help=True,
)
app.add_typer(translations_app, name="translations")


@translations_app.command("status")
def translations_status(
    campaign: CampaignArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Show each language: strings translated of the total, fuzzy ones, review state."""
    from ..campaign.translations import status

    rows = status(open_campaign(campaign))
    if as_json:
        out.print_json(json.dumps([row.as_json() for row in rows], ensure_ascii=False))
        return
    print_translations(rows)


@translations_app.command("extract")
def translations_extract(campaign: CampaignArg = None) -> None:
    """Collect every translatable string into locales/messages.pot."""
    from ..campaign.translations import extract_pot

    c = open_campaign(campaign)
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
    from ..campaign.translations import update

    done = update(open_campaign(campaign), lang or [])
    out.print(f"Updated {len(done)} catalog(s): {', '.join(done) or 'none'}")


@translations_app.command("compile")
def translations_compile(campaign: CampaignArg = None) -> None:
    """Check every translation's placeholders and markup, and write the .mo files."""
    from ..campaign.translations import compile_all

    done = compile_all(open_campaign(campaign))
    out.print(f"Compiled {len(done)} catalog(s): {', '.join(done) or 'none'}")


def _option(help_text: str) -> object:
    return typer.Option(help=help_text, show_default=False)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the campaign in.")],
    organisation: Annotated[str | None, _option("Your organisation (the sender).")] = None,
    street_address: Annotated[str | None, _option("Its street and number.")] = None,
    postal_code: Annotated[str | None, _option("Its postal code.")] = None,
    city: Annotated[str | None, _option("Its city.")] = None,
    country: Annotated[str | None, _option("Its country, ISO code (DE, PL...).")] = None,
    email: Annotated[str | None, _option("The address letters are sent from.")] = None,
    signer: Annotated[str | None, _option("The name that signs the letters.")] = None,
    role: Annotated[str | None, _option("The signer's role (Chair...).")] = None,
    example: Annotated[
        bool,
        typer.Option("--example", help="Keep the bundled placeholder sender (to try things out)."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Copy into a folder that is not empty.")
    ] = False,
) -> None:
    """Make your own campaign in DIRECTORY from the bundled one, with your sender.

    On a terminal it asks for what the options do not give.
    """
    import sys

    from ..campaign.scaffold import SenderDetails, init_campaign
    from ..errors import BadInput

    given = {
        "organisation": organisation,
        "street_address": street_address,
        "postal_code": postal_code,
        "city": city,
        "country": country,
        "email": email,
        "signer": signer,
        "role": role,
    }
    sender = None
    if not example:
        if any(v is None for v in given.values()) and not sys.stdin.isatty():
            absent = [k for k in SenderDetails.REQUIRED if not given[k]]
            if absent:
                options = ", ".join("--" + k.replace("_", "-") for k in absent)
                raise BadInput(
                    f"advocacy init: give your sender ({options}; also --street-address, "
                    "--postal-code, --country, --role), or --example to keep the placeholder"
                )
        values = {
            k: v if v is not None else _ask(k, k in SenderDetails.REQUIRED)
            for k, v in given.items()
        }
        sender = SenderDetails(**values)
    written = init_campaign(directory, force=force, sender=sender)
    out.print(f"Created a campaign in {directory}/: {', '.join(p.name for p in written)}")
    if sender is None:
        out.print("Its sender is the bundled placeholder: set [sender] in campaign.toml.")
    out.print("Next:")
    out.print(f"  1. edit {directory}/campaign.toml (demands) and templates/letter.html.j2")
    out.print(f"  2. advocacy recipients check {directory}")
    out.print(f"  3. advocacy render {directory}   (letters go to {directory}/letters)")


_QUESTIONS = {
    "organisation": "Your organisation",
    "street_address": "Street and number",
    "postal_code": "Postal code",
    "city": "City",
    "country": "Country (ISO code, e.g. DE)",
    "email": "Email the letters come from",
    "signer": "Name of the person who signs",
    "role": "Their role",
}


def _ask(name: str, required: bool) -> str:
    import sys

    if not sys.stdin.isatty():
        return ""
    return str(typer.prompt(_QUESTIONS[name], default=None if required else "", show_default=False))


recipients_app = typer.Typer(
    help="List and check a campaign's recipients; import them from public registers.",
    no_args_is_help=True,
)
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
    from ..campaign.selection import recipient_rows, select

    c = open_campaign(campaign)
    chosen = select(c.recipients, to or [])
    rows = recipient_rows(chosen)
    if as_json:
        out.print_json(json.dumps([row.as_json() for row in rows], ensure_ascii=False))
        return
    print_recipients(rows)


@recipients_app.command("check")
def recipients_check(
    campaign: CampaignArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check every list before a rally; exit 1 when something blocks rendering."""
    from ..errors import BadInput, CheckFailed
    from ..letter.checks import check

    try:
        report = check(open_campaign(campaign))
    except BadInput as exc:
        raise CheckFailed(str(exc)) from None
    if as_json:
        data = {
            "recipients": report.recipients,
            "findings": [f.as_json() for f in report.findings],
        }
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    print_check(report)
    if report.blocking:
        raise CheckFailed("fix the findings marked 'blocks' above, then check again")
