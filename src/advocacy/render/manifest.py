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
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..errors import BadInput, OutputError
from ..fsutil import atomic_writer
from ..paths import ASSETS_DIR
from ..spool import Spool
from .records import FileRecord, Json, LetterRecord
from .seal import sealed

MANIFEST = "manifest.json"
LOG = "manifest.log.jsonl"


class Table:
    """Letters by recipient and language, where a recipient's new letter replaces its
    old ones. Indexed by recipient (N letters cost N steps, not N²) and kept in a
    `Spool`: only the index is in memory."""

    def __init__(self, letters: Iterable[LetterRecord] = ()) -> None:
        self._spool: Spool[LetterRecord] = Spool()
        # Recipient -> the slot of its letter (a list when an old manifest had several):
        # a plain int per letter, as 100,000 small dicts would be megabytes.
        self._by: dict[str, int | list[int]] = {}
        for letter in letters:
            slot, known = self._add(letter), self._by.get(letter.recipient)
            if known is None:
                self._by[letter.recipient] = slot
                continue
            # A second letter of one recipient: another language, or the same one again.
            kept = [k for k in self._slots(known) if self._spool[k].language != letter.language]
            self._by[letter.recipient] = [*kept, slot] if kept else slot

    def _add(self, letter: LetterRecord) -> int:
        self._spool.append(letter)
        return len(self._spool) - 1

    @staticmethod
    def _slots(known: int | list[int] | None) -> list[int]:
        return [] if known is None else [known] if isinstance(known, int) else known

    def supersede(self, letter: LetterRecord) -> list[str]:
        new_paths = {f.path for f in letter.files}
        old = self._slots(self._by.pop(letter.recipient, None))
        self._by[letter.recipient] = self._add(letter)
        dropped = (self._spool[slot] for slot in old)
        return [f.path for e in dropped for f in e.files if f.path not in new_paths]

    def holds(self, letter: LetterRecord) -> bool:
        """True when `letter`, as it is, is this recipient's letter here already."""
        slots = self._slots(self._by.get(letter.recipient))
        return any(self._spool[slot] == letter for slot in slots)

    def values(self) -> Iterator[LetterRecord]:
        for known in self._by.values():
            for slot in self._slots(known):
                yield self._spool[slot]

    def __len__(self) -> int:
        return sum(len(self._slots(known)) for known in self._by.values())


@dataclass(frozen=True)
class Manifest:
    """manifest.json as read, with the letters of an unfinished run's log applied."""

    letters: Sequence[LetterRecord] = ()  # a Spool: on disk, one letter at a time
    campaign: str = ""  # the title of the campaign it was rendered from
    found: bool = False  # there was a manifest, or a killed run's log, to read
    campaign_dir: str = ""  # the campaign folder it was rendered from (absolute)
    tool: str = ""  # "advocacy 1.2.0": the version that rendered it
    shard: dict[str, Json] | None = None  # a `--shard` render: number, count, inputs


def append_log(out: Path, letter: LetterRecord) -> None:
    line = (json.dumps(letter.to_json(), ensure_ascii=False) + "\n").encode()
    fd = os.open(out / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _records(items: Iterable[object]) -> list[LetterRecord]:
    """The entries that are letters; others (a foreign or damaged entry) are left out,
    so their letters are rendered again."""
    found = []
    for item in items:
        try:
            found.append(LetterRecord.from_json(item))
        except ValueError:
            continue
    return found


def iter_log(out: Path) -> Iterator[LetterRecord]:
    """The letters of the log, one line at a time; a line cut short by a crash, or
    an entry that is not a letter, is left out."""
    try:
        handle = (out / LOG).open(encoding="utf-8")
    except OSError:
        return
    with handle:
        for line in handle:
            try:
                yield LetterRecord.from_json(json.loads(line))
            except ValueError:
                continue


def log_entries(out: Path) -> list[LetterRecord]:
    return list(iter_log(out))


def supersede(table: Table, letter: LetterRecord) -> list[str]:
    """Put `letter` in `table`, dropping the recipient's older letters; their paths."""
    return table.supersede(letter)


def _whole(path: Path) -> tuple[dict[str, object], Spool[LetterRecord]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    listed = data.get("letters", [])
    return data, Spool(_records(listed if isinstance(listed, list) else []))


def _read(path: Path) -> tuple[dict[str, object], Spool[LetterRecord]]:
    """manifest.json's fields and its letters, read one letter at a time when the file
    is laid out as `save` writes it (else read whole, with the same result)."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError:
        return {}, Spool()
    letters: Spool[LetterRecord] = Spool()
    with handle:
        head = []
        for line in handle:
            if line == '  "letters": [\n':
                break
            head.append(line)
        else:
            return _whole(path)
        entry: list[str] = []
        try:
            data = json.loads("".join(head) + '  "letters": []\n}')
            for line in handle:
                if line in ("  ]\n", "}\n", "}"):
                    continue
                entry.append(line)
                if line in ("    }\n", "    },\n"):
                    item = json.loads("".join(entry).rstrip().rstrip(","))
                    entry = []
                    letters.extend(_records([item]))
        except (ValueError, UnicodeDecodeError):
            return _whole(path)
    if entry or not isinstance(data, dict):
        return _whole(path)
    return data, letters


def load(out: Path) -> Manifest:
    """manifest.json with the entries of an unfinished run's log applied."""
    data, letters = _read(out / MANIFEST)
    logged = log_entries(out)
    if logged:
        table = Table(letters)
        for letter in logged:
            table.supersede(letter)
        letters = Spool(table.values())
    campaign = data.get("campaign", "")
    folder = data.get("campaign_dir", "")
    shard = data.get("shard")
    return Manifest(
        letters,
        str(campaign or ""),
        bool(data) or bool(logged),
        folder if isinstance(folder, str) else "",
        str(data.get("tool", "") or ""),
        shard if isinstance(shard, dict) else None,
    )


def check_campaign(out: Path, campaign: Campaign, found: Manifest | None = None) -> None:
    """One output folder holds one campaign's letters: refuse to mix in another's.
    `found`: the folder's manifest, when the caller has loaded it already.

    A campaign is known by its folder; a manifest whose folder is gone (the campaign
    was moved) belongs to a campaign of the same title."""
    found = found if found is not None else load(out)
    if not found.found or not (found.campaign_dir or found.campaign):
        return
    here = str(campaign.root.resolve())
    if found.campaign_dir == here:
        return
    title = campaign.config.campaign.title
    moved = not found.campaign_dir or not (Path(found.campaign_dir) / "campaign.toml").is_file()
    if moved and found.campaign == title:
        return
    theirs = f"{found.campaign!r}" + (f" ({found.campaign_dir})" if found.campaign_dir else "")
    raise BadInput(
        f"{out}: holds the letters of the campaign {theirs}, not of {title!r} ({here}); "
        f"give this campaign its own --out (its default is {campaign.root / 'letters'})"
    )


def save(
    out: Path,
    letters: Iterable[LetterRecord],
    *,
    tool: str,
    campaign: str,
    campaign_dir: str = "",
    shard: dict[str, Json] | None = None,
) -> None:
    """Write manifest.json, one letter at a time (100,000 letters are never one value in
    memory); the bytes are those of `json.dumps(manifest, indent=2)`."""
    head: dict[str, Json] = {
        "tool": tool,
        "campaign": campaign,
        "campaign_dir": campaign_dir,
        "generated": generated(),
        **({"shard": shard} if shard else {}),
    }
    spool: Spool[LetterRecord] = Spool()
    # Per letter one string that sorts as (address block, recipient, language) and
    # ends in its slot: a tuple of three would be twice the memory at 100,000.
    order = []
    for letter in letters:
        # Letters without an address block first: they must not be posted as they are.
        block = "1" if letter.address_block else "0"
        order.append(f"{block}\0{letter.recipient}\0{letter.language}\0{len(spool)}")
        spool.append(letter)
    order.sort()
    try:
        with atomic_writer(out / MANIFEST) as handle:
            text = json.dumps({**head, "letters": []}, indent=2, ensure_ascii=False)
            if order:
                handle.write(text.removesuffix("[]\n}").encode() + b"[")
                for n, key in enumerate(order):
                    slot = int(key.rpartition("\0")[2])
                    entry = json.dumps(spool[slot].to_json(), indent=2, ensure_ascii=False)
                    handle.write(b",\n" if n else b"\n")
                    handle.write(textwrap.indent(entry, "    ").encode())
                handle.write(b"\n  ]\n}\n")
            else:
                handle.write(text.encode() + b"\n")
        (out / LOG).unlink(missing_ok=True)  # folded into manifest.json now
    except OSError as exc:
        raise OutputError(f"{out / MANIFEST}: cannot write: {exc.strerror}") from None


def generated() -> str:
    """Now, or SOURCE_DATE_EPOCH (reproducible builds): then two renders of the same
    letters, sharded or not, give the same manifest, byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else None
    return (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Within `hashes_remembered()`: the sha256 of each file read so far, by what its stat
# says (path, size, mtime, inode, ctime). None: every check reads the file.
_HASHES: dict[tuple[str, int, int, int, int], str] | None = None


@contextmanager
def hashes_remembered() -> Iterator[None]:
    """Each file hashed once while the block runs: `send` checks every letter in its
    render check and again as it plans, and 1000 messages were 2000 reads. (It checks
    the bytes that go, as they go, against the same sha256: a file changed in between
    is caught there.) Not for `render`: the memo grows with the letters."""
    global _HASHES
    _HASHES = {}
    try:
        yield
    finally:
        _HASHES = None


def file_intact(out: Path, item: FileRecord) -> bool:
    """The file exists with the recorded size and sha256."""
    path = out / item.path
    try:
        stat = path.stat()
        if stat.st_size != item.size:
            return False
        if _HASHES is None:
            return sha256_file(path) == item.sha256
        key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
        digest = _HASHES.get(key)
        if digest is None:
            digest = _HASHES[key] = sha256_file(path)
        return digest == item.sha256
    except OSError:
        return False


def trusted(out: Path, letter: LetterRecord) -> bool:
    """Rendered here (sealed) and every file as it was written: what `send` may send."""
    return sealed(letter) and files_intact(out, letter)


def files_intact(out: Path, letter: LetterRecord) -> bool:
    """Every file of the letter exists with the recorded size and sha256."""
    return bool(letter.files) and all(file_intact(out, item) for item in letter.files)


def format_settings(
    formats: Iterable[str], pdf_variant: str, email: dict[str, Json]
) -> dict[str, str]:
    """Per format, a digest of the settings only its files depend on."""
    own: dict[str, Json] = {"pdf": {"variant": pdf_variant}, "html": {}, "eml": email}
    return {
        fmt: hashlib.sha256(json.dumps(own.get(fmt, {}), sort_keys=True).encode()).hexdigest()[:16]
        for fmt in formats
    }


def reusable(
    out: Path, previous: LetterRecord | None, input_hash: str, settings: dict[str, str]
) -> tuple[FileRecord, ...]:
    """The files of a letter's last render that are still right: made from the same
    inputs, intact on disk, and (for the formats asked for now) with today's settings.
    Files of formats not asked for are kept as they are: `render` after `send`
    leaves the .eml files alone."""
    if previous is None or previous.input_hash != input_hash or not sealed(previous):
        return ()  # not rendered here (a folder that came with the campaign): redo it
    return tuple(
        item
        for item in previous.files
        if (item.format not in settings or item.settings == settings[item.format])
        and file_intact(out, item)
    )


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def _hash_tree(digest: _Digest, folder: Path, root: Path, suffixes: tuple[str, ...]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in suffixes:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())


def campaign_digest(campaign: Campaign, settings: dict[str, Json]) -> str:
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
