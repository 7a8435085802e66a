"""`advocacy recipients import` and `advocacy recipients diff`: recipient lists
from public registers (registers/), parsed here and delegated."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .campaign import recipients_app
from .console import err, out

if TYPE_CHECKING:
    from ..registers.importer import Options

SourceArg = Annotated[
    str,
    typer.Argument(
        help="The register: congress-legislators (legislators-current.yaml of the "
        "unitedstates project), uk-parliament (a Members API /api/Members/Search "
        "response), ep-meps (EP Open Data /api/v2/meps/show-current), "
        "ca-house-of-commons (the House's members XML) or generic (any CSV, YAML or "
        "JSON file, with --map).",
        show_default=False,
    ),
]
Committees = Annotated[
    Path | None,
    typer.Option(
        "--committees",
        help="congress-legislators: committee-membership-current.yaml, for committee tags.",
        show_default=False,
    ),
]
Contacts = Annotated[
    Path | None,
    typer.Option(
        "--contacts",
        help="uk-parliament, ep-meps: the folder of each member's own response "
        "(/api/Members/{id}/Contact, /api/v2/meps/{id}) saved as {id}.json.",
        show_default=False,
    ),
]
MapOption = Annotated[
    Path | None,
    typer.Option("--map", help="generic: the mapping file (TOML).", show_default=False),
]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="The register file's date, YYYY-MM-DD. Default: the day the file was saved.",
        show_default=False,
    ),
]


TagOption = Annotated[
    list[str] | None, typer.Option("--tag", help="Add this tag to every entry. Repeatable.")
]
FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        help="Keep only entries matching: an id, a country code or tag:NAME "
        "(tag:foreign-affairs). Repeatable.",
    ),
]


def _options(
    committees: Path | None, contacts: Path | None, mapping: Path | None, date: str | None
) -> Options:
    from ..registers.importer import Options

    return Options(committees=committees, contacts=contacts, mapping=mapping, date=date)


@recipients_app.command("import")
def recipients_import(
    source: SourceArg,
    file: Annotated[Path, typer.Argument(help="The register file.", show_default=False)],
    to_list: Annotated[
        Path | None,
        typer.Option(
            "--to-list",
            help="Write the list here (recipients/NAME.yaml). Default: print it.",
            show_default=False,
        ),
    ] = None,
    tag: TagOption = None,
    filter_: FilterOption = None,
    committees: Committees = None,
    contacts: Contacts = None,
    mapping: MapOption = None,
    date: DateOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing list.")] = False,
) -> None:
    """Turn a register file into a recipient list: every entry with its source,
    confidence and register id, and verified: false."""
    from ..registers.importer import dump, header, import_register, write_list

    imported = import_register(
        source,
        file,
        _options(committees, contacts, mapping, date),
        tags=tag or [],
        filters=filter_ or [],
    )
    text = dump(imported.entries, header(imported.register))
    for warning in imported.register.warnings:
        err.print(f"warning: {warning}", markup=False)
    if to_list is None:
        sys.stdout.write(text)
        return
    write_list(to_list, text, force=force)
    out.print(
        f"Wrote {len(imported.entries)} recipient(s) to {to_list} "
        f"({source}, register of {imported.register.date})",
        markup=False,
    )


@recipients_app.command("diff")
def recipients_diff(
    list_file: Annotated[
        Path, typer.Argument(metavar="LIST", help="The campaign's list (YAML).", show_default=False)
    ],
    new_file: Annotated[
        Path, typer.Argument(metavar="NEWFILE", help="The newer register file.", show_default=False)
    ],
    source: Annotated[str, typer.Option("--source", help="The register, as for import.")],
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Add this tag to people new in the register. Repeatable."),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="Compare only the register's entries matching (as the list was imported "
            "with --filter): an id, a country code or tag:NAME. Repeatable.",
        ),
    ] = None,
    committees: Committees = None,
    contacts: Contacts = None,
    mapping: MapOption = None,
    date: DateOption = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Write the changes; old values go into each entry's notes."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")] = False,
) -> None:
    """Compare a list with a newer register file: moved addresses, changed emails and
    names, people new and gone, matched by register_id."""
    from ..registers.diff import apply_diff, diff_list
    from ..registers.importer import import_register

    imported = import_register(
        source,
        new_file,
        _options(committees, contacts, mapping, date),
        tags=tag or [],
        filters=filter_ or [],
    )
    found = diff_list(list_file, imported)
    if apply and found.changes:
        apply_diff(found)
    if as_json:
        data = {"applied": apply, "changes": [c.as_json() for c in found.changes]}
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    for change in found.changes:
        out.print(change.line(), markup=False)
    verb = "applied to" if apply else "between"
    target = f"{list_file}" if apply else f"{list_file} and {new_file}"
    out.print(f"{len(found.changes)} change(s) {verb} {target}", markup=False)
