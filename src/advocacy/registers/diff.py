"""`advocacy recipients diff`: a campaign's list against a newer register file.

Entries are matched by `register_id`. A change is a moved address (or a new
organisation line), a changed email or name, a person new in the register or
gone from it; each carries the register's date. `apply_diff` writes them: the
old value goes into the entry's `notes` as one dated line, `verified` is reset
for every changed entry, people gone are taken off the list (the report names
them), new people are added unverified. Entries without a `register_id` (typed
by hand) are never touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..campaign.recipients import ADDRESS_FIELDS, load_file, parse_entries
from ..errors import RegisterError
from ..fsutil import write_atomic
from .entries import Register
from .importer import Imported, dump
from .readers import read_yaml

# What a register says about a person that `diff` compares, and the fields each covers.
KINDS = {
    "moved": ("address", "organisation"),
    "email": ("email",),
    "name": ("name", "salutation"),  # the salutation: the register's form of the name
}


@dataclass(frozen=True)
class Change:
    kind: str  # moved, email, name, joined, left
    id: str
    register_id: str
    old: str
    new: str
    date: str  # the newer register's date

    def as_json(self) -> dict[str, str]:
        return asdict(self)

    def line(self) -> str:
        who = f"{self.id} ({self.register_id})"
        if self.kind == "joined":
            return f"joined  {who}: {self.new} (register of {self.date})"
        if self.kind == "left":
            return f"left    {who}: no longer in the register of {self.date}"
        return f"{self.kind:<7} {who}: {self.old} -> {self.new} (register of {self.date})"


@dataclass
class Diff:
    list_path: Path
    register: Register
    changes: list[Change]
    old_entries: list[dict[str, Any]]
    new_entries: dict[str, dict[str, Any]]  # register id -> entry as imported
    comment: str  # the list file's leading comment lines, kept on --apply


def _show(entry: dict[str, Any], kind: str) -> str:
    if kind == "moved":
        address = entry.get("address") or {}
        parts = [str(entry.get("organisation") or "")]
        parts += [str(address.get(f) or "") for f in ADDRESS_FIELDS]
        return ", ".join(p for p in parts if p) or "(no address)"
    if kind == "name":
        salutation = entry.get("salutation") or {}
        greeting = (
            "; ".join(str(v) for v in salutation.values()) if isinstance(salutation, dict) else ""
        )
        return " / ".join(p for p in (str(entry.get("name") or ""), greeting) if p) or "(none)"
    return str(entry.get(KINDS[kind][0]) or "(none)")


def _same(old: dict[str, Any], new: dict[str, Any], kind: str) -> bool:
    for name in KINDS[kind]:
        a, b = old.get(name) or "", new.get(name) or ""
        if isinstance(a, dict) and isinstance(b, dict):
            a = {k: str(v).strip() for k, v in a.items() if v}
            b = {k: str(v).strip() for k, v in b.items() if v}
        if a != b:
            return False
    return True


def _list_entries(path: Path) -> tuple[list[dict[str, Any]], str]:
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise RegisterError(f"{path}: diff compares a YAML list (as 'recipients import' writes)")
    load_file(path)  # every entry valid, or one line saying which is not
    data = read_yaml(path) or []
    if isinstance(data, dict):
        data = data.get("recipients") or []
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    comment = ""
    for line in lines:
        if not line.startswith("#"):
            break
        comment += line
    return [dict(entry) for entry in data], comment


def diff_list(list_path: Path, imported: Imported) -> Diff:
    old_entries, comment = _list_entries(list_path)
    date = imported.register.date
    new = {str(e["register_id"]): e for e in imported.entries if e.get("register_id")}
    changes: list[Change] = []
    matched = set()
    for entry in old_entries:
        rid = str(entry.get("register_id") or "")
        if not rid:
            continue
        if rid not in new:
            changes.append(Change("left", entry["id"], rid, _show(entry, "moved"), "", date))
            continue
        matched.add(rid)
        for kind in KINDS:
            if not _same(entry, new[rid], kind):
                changes.append(
                    Change(kind, entry["id"], rid, _show(entry, kind), _show(new[rid], kind), date)
                )
    for rid, entry in new.items():
        if rid not in matched:
            name = entry.get("name") or entry.get("organisation") or ""
            changes.append(Change("joined", entry["id"], rid, "", str(name), date))
    return Diff(list_path, imported.register, changes, old_entries, new, comment)


def _history(entry: dict[str, Any], change: Change, source: str) -> None:
    verified = entry.get("verified")
    was = f"; was verified {verified}" if verified not in (None, False, "false") else ""
    line = f"{change.date} {source}: {change.kind}, was {change.old}{was}."
    notes = str(entry.get("notes") or "").rstrip()
    entry["notes"] = f"{notes}\n{line}" if notes else line


def apply_diff(diff: Diff) -> list[dict[str, Any]]:
    """Write the changes into the list file (atomically, after checking the result)."""
    by_rid: dict[str, list[Change]] = {}
    for change in diff.changes:
        by_rid.setdefault(change.register_id, []).append(change)
    result: list[dict[str, Any]] = []
    for entry in diff.old_entries:
        rid = str(entry.get("register_id") or "")
        changes = by_rid.get(rid, [])
        if any(c.kind == "left" for c in changes):
            continue
        for change in changes:
            for name in KINDS[change.kind]:
                value = diff.new_entries[rid].get(name)
                if value in (None, "", {}, []):
                    entry.pop(name, None)
                else:
                    entry[name] = value
            _history(entry, change, diff.register.source)
        if changes:
            entry["verified"] = False
        result.append(entry)
    taken = {str(e["id"]).lower() for e in result}
    for change in diff.changes:
        if change.kind == "joined":
            if change.id.lower() in taken:
                raise RegisterError(
                    f"{diff.list_path}: id {change.id!r} of a new member is already used "
                    "by another entry; rename that entry, then apply again"
                )
            result.append(diff.new_entries[change.register_id])
    parse_entries(result, diff.list_path)  # the list as it will be, valid before it is written
    write_atomic(diff.list_path, dump(result, diff.comment).encode("utf-8"))
    return result
