"""Register files as plain records: YAML, JSON or CSV, every problem one line
naming the file (and the line, where the parser gives one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..csvfile import dict_reader
from ..errors import RegisterError

FORMATS = ("csv", "yaml", "json")
# libyaml where present: the full legislators-current.yaml (1 MB) loads in a fraction of a second.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def format_of(path: Path, given: str = "") -> str:
    if given:
        if given not in FORMATS:
            raise RegisterError(f"format {given!r} is not one of {', '.join(FORMATS)}")
        return given
    suffix = path.suffix.lower().lstrip(".")
    found = {"yml": "yaml"}.get(suffix, suffix)
    if found not in FORMATS:
        raise RegisterError(
            f"{path}: unknown register format '.{suffix}'; use a .csv, .yaml or .json file"
        )
    return found


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegisterError(f"{path}: not found; give the register file you downloaded") from None
    except IsADirectoryError:
        raise RegisterError(f"{path}: is a folder; give the register file itself") from None
    except UnicodeDecodeError:
        raise RegisterError(f"{path}: is not UTF-8 text; save it as UTF-8") from None


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(read_text(path), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RegisterError(
            f"{path}: malformed YAML{where}: {getattr(exc, 'problem', None) or exc}"
        ) from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise RegisterError(f"{path}: malformed JSON at line {exc.lineno}: {exc.msg}") from None


def contacts_folder(folder: Path | None, responses: str) -> None:
    """`--contacts` names a folder of per-member API responses saved as {id}.json."""
    if folder is not None and not folder.is_dir():
        raise RegisterError(
            f"{folder}: is not a folder; --contacts names the folder of {responses} "
            "responses saved as {id}.json"
        )


def contact_file(folder: Path | None, member: object) -> tuple[Path, Any] | None:
    """The member's saved response in the `--contacts` folder, or None: a member the
    folder has no file for is not an error (the import says how many have none)."""
    path = folder / f"{member}.json" if folder is not None else None
    if path is None or not path.is_file():
        return None
    return path, read_json(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    reader = dict_reader(read_text(path))
    if not reader.fieldnames:
        raise RegisterError(f"{path}: is empty; the first row must name the columns")
    rows = []
    for row in reader:
        if None in row:
            raise RegisterError(
                f"{path}: line {reader.line_num}: has more cells than the header row; "
                "check for a stray delimiter"
            )
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if any(clean.values()):
            rows.append(clean)
    return rows


def records(path: Path, fmt: str, at: str = "") -> list[Any]:
    """The file's list of records; `at` is the dotted key of the list inside a JSON
    or YAML document ("items", "data"), empty when the document is the list."""
    data: Any
    if fmt == "csv":
        return list(read_csv(path))
    data = read_yaml(path) if fmt == "yaml" else read_json(path)
    for key in [part for part in at.split(".") if part]:
        if not isinstance(data, dict) or key not in data:
            raise RegisterError(
                f"{path}: has no '{at}' holding the records; check 'records' in the mapping"
            )
        data = data[key]
    if not isinstance(data, list):
        raise RegisterError(
            f"{path}: expected a list of records, found {type(data).__name__}"
            + ("" if at else "; name the key that holds them with 'records' in the mapping")
        )
    return data


def lookup(record: Any, key: str) -> Any:
    """`record[key]`, or the dotted path through nested tables ("value.nameDisplayAs")."""
    if isinstance(record, dict) and key in record:
        return record[key]
    value: Any = record
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(key)
    return value
