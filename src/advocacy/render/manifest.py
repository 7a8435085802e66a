"""The output folder's manifest: what was rendered, from what, with which sums.

Each letter records `input_hash`, a digest of everything it was made from, so
a rerun skips letters whose inputs did not change.

During a run each worker appends a letter's entry to `manifest.log.jsonl`
right after the letter's file is renamed into place (one O_APPEND write, so
processes never interleave), and the run folds the log into `manifest.json`
when it ends. A run killed midway therefore leaves a manifest (json + log)
that describes the files present; the next run folds the log in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..errors import BadInput, OutputError
from ..fsutil import atomic_writer, write_atomic
from ..paths import ASSETS_DIR

MANIFEST = "manifest.json"
LOG = "manifest.log.jsonl"


def append_log(out: Path, entry: dict[str, Any]) -> None:
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode()
    fd = os.open(out / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def log_entries(out: Path) -> list[dict[str, Any]]:
    try:
        lines = (out / LOG).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(entry, dict) and "recipient" in entry and "language" in entry:
            found.append(entry)
    return found


def supersede(table: dict[tuple[str, str], dict[str, Any]], entry: dict[str, Any]) -> list[str]:
    """Put `entry` in `table`, dropping the recipient's older letters; their paths."""
    recipient = str(entry["recipient"])
    new_paths = {f.get("path") for f in entry.get("files", [])}
    dropped = []
    for key in [k for k in table if k[0] == recipient]:
        dropped += [
            str(f.get("path"))
            for f in table.pop(key).get("files", [])
            if f.get("path") not in new_paths
        ]
    table[(recipient, str(entry["language"]))] = entry
    return dropped


def load(out: Path) -> dict[str, Any]:
    """manifest.json with the entries of an unfinished run's log applied."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    logged = log_entries(out)
    if logged:
        table = {(str(e["recipient"]), str(e["language"])): e for e in entries(data)}
        for entry in logged:
            supersede(table, entry)
        data["letters"] = list(table.values())
    return data


def entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in manifest.get("letters", []) if isinstance(e, dict) and "recipient" in e]


def save(out: Path, letters: Iterable[dict[str, Any]], *, tool: str, campaign: str) -> None:
    data = {
        "tool": tool,
        "campaign": campaign,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "letters": sorted(letters, key=lambda e: (str(e["recipient"]), str(e["language"]))),
    }
    try:
        write_atomic(
            out / MANIFEST, json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n"
        )
        (out / LOG).unlink(missing_ok=True)  # folded into manifest.json now
    except OSError as exc:
        raise OutputError(f"{out / MANIFEST}: cannot write: {exc.strerror}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_intact(out: Path, entry: dict[str, Any]) -> bool:
    """Every file of the entry exists with the recorded size and sha256."""
    files = entry.get("files") or []
    for item in files:
        path = out / str(item.get("path", ""))
        try:
            if path.stat().st_size != item.get("bytes") or sha256_file(path) != item.get("sha256"):
                return False
        except OSError:
            return False
    return bool(files)


def _hash_tree(digest: Any, folder: Path, root: Path, suffixes: tuple[str, ...]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in suffixes:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())


def campaign_digest(campaign: Campaign, settings: dict[str, Any]) -> str:
    """A digest of everything all letters share: campaign file, templates,
    catalogs, signature and co-signatories, bundled assets and fonts, the
    package version and the render settings (formats, variant, date...)."""
    from .. import __version__

    digest = hashlib.sha256()
    digest.update(json.dumps({"version": __version__, **settings}, sort_keys=True).encode())
    root = campaign.root
    # Not the recipient lists: each letter's own digest holds its entry, so editing
    # one entry re-renders one letter.
    for path in campaign.source_files(recipients=False):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    _hash_tree(digest, ASSETS_DIR, ASSETS_DIR, (".j2", ".css", ".ttf"))
    return digest.hexdigest()


def letter_digest(common: str, recipient: Recipient) -> str:
    return hashlib.sha256((common + recipient.model_dump_json()).encode()).hexdigest()


def merge(sources: list[Path], out: Path, *, tool: str) -> list[dict[str, Any]]:
    """Copy the letters of several output folders (shards) into `out`, one manifest."""
    combined: dict[tuple[str, str], dict[str, Any]] = {}
    origin: dict[tuple[str, str], Path] = {}
    campaign = ""
    for source in sources:
        data = load(source)
        if not data:
            raise BadInput(f"{source}: has no readable {MANIFEST}; give folders made by render")
        campaign = campaign or str(data.get("campaign", ""))
        for entry in entries(data):
            key = (str(entry["recipient"]), str(entry["language"]))
            if not files_intact(source, entry):
                raise BadInput(
                    f"{source}: the files of {key[0]} ({key[1]}) are missing or do not match "
                    f"its {MANIFEST}; render that shard again"
                )
            if key in combined and combined[key].get("files") != entry.get("files"):
                raise BadInput(
                    f"{source}: {key[0]} ({key[1]}) was also rendered, differently, in "
                    f"{origin[key]}; shards must not overlap"
                )
            combined[key], origin[key] = entry, source
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    kept = {(str(e["recipient"]), str(e["language"])): e for e in entries(load(out))}
    for key, entry in combined.items():
        for item in entry["files"]:
            source_file = origin[key] / item["path"]
            target = out / item["path"]
            if source_file.resolve() != target.resolve():
                with source_file.open("rb") as src, atomic_writer(target) as dst:
                    shutil.copyfileobj(src, dst)
        kept[key] = entry
    save(out, kept.values(), tool=tool, campaign=campaign)
    return list(combined.values())
