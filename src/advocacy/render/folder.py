"""The output folder: refuse one that is not ours, one writer at a time."""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import os
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import BadInput, OutputError
from . import manifest

MANIFEST = manifest.MANIFEST
LOCK = ".advocacy.lock"


def check_out_dir(out: Path, force: bool, *, create: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder; choose another --out")
    ours = (out / MANIFEST).exists() or (out / manifest.LOG).exists()  # LOG: a killed run
    foreign = out.is_dir() and not force and not ours
    if foreign and any(not p.name.startswith(".") for p in out.iterdir()):
        raise BadInput(
            f"{out}: is not empty and holds no {MANIFEST} from an earlier render; "
            "choose another --out, or use --force to write into it anyway"
        )
    if not create:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder is not writable; choose another --out")


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """One run at a time per output folder; clear what a killed run left half-written."""
    handle = (out / LOCK).open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{out}: another advocacy run is writing to this folder; wait for it to end "
                "or choose another --out"
            ) from None
        for partial in out.glob(".*.tmp"):
            partial.unlink(missing_ok=True)  # temporary files of a killed run
        yield
    finally:
        handle.close()
        (out / LOCK).unlink(missing_ok=True)


class NameSet:
    """File names, held as a sorted array of their hashes: 8 bytes a name, where a set
    of 200,000 names would be megabytes. A collision can only keep a stray file, never
    remove a listed one."""

    def __init__(self, names: Iterable[str]) -> None:
        self._hashes = array("q", sorted(hash(name) for name in names))

    def __contains__(self, name: object) -> bool:
        key = hash(name)
        at = bisect.bisect_left(self._hashes, key)
        return at < len(self._hashes) and self._hashes[at] == key

    def __len__(self) -> int:
        return len(self._hashes)


def remove_unlisted(out: Path, listed: NameSet, since: float) -> None:
    """Remove letter files this run wrote (modified at or after `since`) that no
    manifest entry describes: interrupted between writing a file and logging it."""
    with os.scandir(out) as entries:  # one entry at a time: the folder may hold 300,000
        for entry in entries:
            name = entry.name
            if name.startswith(".") or not name.endswith((".pdf", ".html", ".eml")):
                continue
            if name not in listed:
                with contextlib.suppress(OSError):
                    if entry.is_file() and entry.stat().st_mtime >= since:
                        os.unlink(entry.path)
