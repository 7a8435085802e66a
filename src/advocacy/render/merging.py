"""`render --merge`: the output folders of several shards as one folder.

Each shard's manifest says which share it is (`shard`: number, count and a digest
of the campaign's shared inputs). The merge refuses folders of another campaign,
another version of advocacy or other inputs, names the shards that are missing by
their number and index, and copies the letters with one manifest, which is the
one an unsharded render of the same campaign writes.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from ..errors import BadInput, OutputError
from ..fsutil import atomic_writer
from .manifest import MANIFEST, Manifest, Table, files_intact, load, save
from .records import LetterRecord
from .seal import seal_of
from .shards import missing_line


def _same(found: list[tuple[Path, Manifest]]) -> None:
    """Every folder from one campaign, one version of advocacy and, for shards, one
    set of inputs; else name the first folder that differs."""
    first_path, first = found[0]
    for path, other in found[1:]:
        for what, mine, theirs in (
            ("campaign", first.campaign, other.campaign),
            ("version", first.tool, other.tool),
            (
                "campaign inputs (templates, catalogs, settings)",
                (first.shard or {}).get("inputs"),
                (other.shard or {}).get("inputs"),
            ),
        ):
            if mine != theirs:
                raise BadInput(
                    f"{path}: was rendered with another {what} ({theirs!r}) than {first_path} "
                    f"({mine!r}); render every shard from the same campaign with the same "
                    "advocacy"
                )


def _check_shards(found: list[tuple[Path, Manifest]]) -> None:
    shards = [m.shard for _, m in found if m.shard]
    if not shards:
        return  # folders of whole renders: combined as they are
    if len(shards) != len(found):
        plain = next(path for path, m in found if not m.shard)
        raise BadInput(f"{plain}: is not a shard (no --shard render); merge shards only")
    counts = {int(str(s.get("count", 0))) for s in shards}
    present = {int(str(s.get("number", 0))) for s in shards}
    problem = missing_line(counts, present, len(found))
    if problem:
        raise BadInput(problem)


def merge(sources: list[Path], out: Path, *, tool: str) -> list[LetterRecord]:
    """Copy the letters of several output folders (shards) into `out`, one manifest."""
    found: list[tuple[Path, Manifest]] = []
    for source in sources:
        read = load(source)
        if not read.found:
            raise BadInput(f"{source}: has no readable {MANIFEST}; give folders made by render")
        found.append((source, read))
    if not found:
        raise BadInput("--merge: give the output folders of the shards")
    _same(found)
    _check_shards(found)
    combined: dict[tuple[str, str], LetterRecord] = {}
    origin: dict[tuple[str, str], Path] = {}
    for source, read in found:
        for letter in read.letters:
            key = letter.key
            if not files_intact(source, letter):
                raise BadInput(
                    f"{source}: the files of {key[0]} ({key[1]}) are missing or do not match "
                    f"its {MANIFEST}; render that shard again"
                )
            if key in combined and combined[key].files != letter.files:
                raise BadInput(
                    f"{source}: {key[0]} ({key[1]}) was also rendered, differently, in "
                    f"{origin[key]}; shards must not overlap"
                )
            # Merging is the user's decision to trust these folders: seal them here.
            letter = dataclasses.replace(letter, seal=seal_of(letter))
            combined[key], origin[key] = letter, source
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    kept = Table(load(out).letters)
    for key, letter in combined.items():
        for item in letter.files:
            source_file = origin[key] / item.path
            target = out / item.path
            if source_file.resolve() != target.resolve():
                with source_file.open("rb") as src, atomic_writer(target) as dst:
                    shutil.copyfileobj(src, dst)
        kept.supersede(letter)
    first = found[0][1]
    save(out, kept.values(), tool=tool, campaign=first.campaign, campaign_dir=first.campaign_dir)
    return list(combined.values())
