"""The command tree as users meet it: words for values in `--help` (`--to
SELECTOR`, not `<list[str]>`), `-h`, `init` first, and shell completion of values
(recipient ids, tags and countries for `--to`, formats, languages).

Applied once to the click command Typer builds, so every option of every command
gets it, also ones added later, without repeating it at each declaration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

METAVARS = {
    "to": "SELECTOR",
    "by": "KIND",
    "envelope": "SIZE",
    "labels": "SHEET",
    "skip": "N",
    "lang": "LANG",
    "format": "FORMAT",
    "out": "DIR",
    "jobs": "N",
    "shard": "K/N",
    "merge": "DIR",
    "pdf_variant": "VARIANT",
    "smtp": "URL",
    "mail_from": "ADDRESS",
    "rate": "RATE",
    "connections": "N",
    "limit": "N",
    "via": "CSV",
    "cafile": "PEM",
    "retries": "N",
    "backoff": "SECONDS",
    "host": "HOST",
    "port": "PORT",
    "test_to": "ADDRESS",
    "country": "CODE",
    "email": "ADDRESS",
    "postal_code": "CODE",
    "organisation": "NAME",
    "street_address": "STREET",
    "city": "CITY",
    "signer": "NAME",
    "role": "ROLE",
}
ARGUMENTS = {"campaign": "CAMPAIGN", "folder": "CAMPAIGN", "directory": "DIR"}
ORDER = ("init", "render", "preview", "send", "status", "recipients", "translations")
FORMATS = ("pdf", "html", "eml", "mbox")


def _campaign_for(ctx: Any) -> Any:
    """The campaign the command line names (or the one found from here), or None."""
    from ..campaign.discovery import open_campaign

    given = ctx.params.get("campaign") or ctx.params.get("folder")
    try:
        return open_campaign(Path(given) if given else None)
    except Exception:  # completion must never print a traceback into the shell
        return None


def _complete_to(ctx: Any, param: Any, incomplete: str) -> list[str]:
    campaign = _campaign_for(ctx)
    if campaign is None:
        return []
    found: set[str] = set()
    for recipient in campaign.recipients:
        found.add(recipient.id)
        found.add(recipient.country.lower())
        found.update(f"tag:{tag}" for tag in recipient.tags)
    return sorted(value for value in found if value.startswith(incomplete))


def _complete_format(ctx: Any, param: Any, incomplete: str) -> list[str]:
    return [fmt for fmt in FORMATS if fmt.startswith(incomplete)]


def _complete_lang(ctx: Any, param: Any, incomplete: str) -> list[str]:
    from ..i18n import catalogs

    campaign = _campaign_for(ctx)
    if campaign is None:
        return []
    found = {*catalogs.languages(campaign.root), campaign.config.campaign.fallback_language}
    if ctx.command.name in ("preview",):
        found.add("bilingual")
    return sorted(value for value in found if value.startswith(incomplete))


COMPLETIONS = {"to": _complete_to, "format": _complete_format, "lang": _complete_lang}


def shape(command: Any) -> Any:
    """Give every option of `command` and its subcommands its metavar and completion."""
    for param in getattr(command, "params", []):
        name = param.name or ""
        longest = max(getattr(param, "opts", []) or [""], key=len)
        if longest.startswith("--"):
            name = longest[2:].replace("-", "_")  # --out, not the variable out_dir
        if getattr(param, "param_type_name", "") == "argument":
            param.metavar = ARGUMENTS.get(name, name.upper())
            # The name says what it is; Typer would add "<path>" after it.
            param.display_type_rich = lambda ctx: None
            if param.required:  # Typer writes a required one as {DIR}; DIR is the custom
                param._usage_display_name = lambda metavar=param.metavar: metavar
        elif not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = METAVARS.get(name, name.upper())
        if name in COMPLETIONS:
            param._custom_shell_complete = COMPLETIONS[name]
    commands = getattr(command, "commands", None)
    if commands:
        ordered = {name: commands[name] for name in ORDER if name in commands}
        ordered.update(commands)
        commands.clear()
        commands.update(ordered)
        for sub in commands.values():
            shape(sub)
    return command
