"""Reading recipient list files (YAML, CSV) entry by entry, in bounded memory.

A list may hold 100,000 recipients, and a campaign folder is untrusted, so:

- entries are read one at a time (a generator), never the whole file as one value;
- a file with more than `MAX_RECIPIENTS` entries is refused before any is validated;
- YAML anchors and aliases are refused (billion laughs, recursive lists): an entry
  is written out in full.

YAML is read with libyaml (`yaml.CSafeLoader`) where it is installed, and the
pure-Python loader otherwise; both read one entry per document: the list is split
at its items (`- ` at the list's indent), each item is loaded on its own, and a
file that does not split cleanly (flow style, a quoted text across an item line,
a second document...) is read whole instead, with the same result.
"""

from __future__ import annotations

import csv
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

import yaml

from ..errors import RecipientError

# One list file, and a campaign's lists together, hold at most this many recipients.
# 100,000 letters render on one machine in flat memory; a larger list is more likely
# a mistake (or a hostile file: 1,000,000 rows took 3.5 GB) than a campaign.
MAX_RECIPIENTS = 200_000

FAST = getattr(yaml, "__with_libyaml__", False)
_STR = "tag:yaml.org,2002:str"  # libyaml's parser is installed
_ITEM = re.compile(r" *-(?:[ \r\n]|$)")
GROUP = 200  # items loaded as one document: few loaders, little memory
_HEADER = re.compile(r"\s*(#.*)?|---\s*(#.*)?|recipients:\s*(#.*)?")


def _loader_base(fast: bool) -> Any:
    return yaml.CSafeLoader if fast and FAST else yaml.SafeLoader


def _make_loader(fast: bool) -> Any:
    base = _loader_base(fast)
    known: dict[str, str] = {}  # plain scalar -> its tag (int, bool, date, str...)

    # Plain texts that start with a letter no implicit type starts with ("Berlin",
    # "de-DE", "r00042") are texts: most of a list, told apart without a regex.
    firsts = base.yaml_implicit_resolvers
    plain = None not in firsts and not base.yaml_path_resolvers

    class Loader(base):  # type: ignore[misc,valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not yaml.ScalarNode or not implicit[0]:
                return super().resolve(kind, value, implicit)
            if plain and value and value[0] not in firsts:
                return _STR
            tag = known.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(known) < 10_000:
                    known[value] = tag
            return tag

    return Loader


_LOADERS = {fast: _make_loader(fast) for fast in (True, False)}


def count_limit(shown: Path, count: int) -> RecipientError:
    return RecipientError(
        f"{shown}: holds {count:,} or more recipients; a campaign takes at most "
        f"{MAX_RECIPIENTS:,} (MAX_RECIPIENTS): split the list into campaigns of that size"
    )


@contextmanager
def _no_gc() -> Iterator[None]:
    """Loading makes millions of small objects and no cycles: the cyclic collector
    would walk every one of them again and again (4x the time for 10,000 entries)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _yaml_error(shown: Path, exc: yaml.YAMLError, line_offset: int = 0) -> RecipientError:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1 + line_offset}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or "invalid YAML"
    return RecipientError(
        f"{shown}: malformed YAML{where}: {problem}; fix the syntax (indentation, quotes)"
    )


def _refuse_aliases(node: yaml.Node, shown: Path) -> None:
    """A node met twice is an alias (`*name`): refused, before anything is built from
    it, so a billion laughs or a list that contains itself is one line, not a hang."""
    seen: set[int] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            mark = current.start_mark
            raise RecipientError(
                f"{shown}: line {mark.line + 1}: uses a YAML anchor and alias (&name, *name); "
                "recipient lists do not allow them: write each entry out in full"
            )
        seen.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            todo.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                todo += (key, value)


_MERGE = "tag:yaml.org,2002:merge"


def _build(node: yaml.Node, loader: Any) -> Any:
    """The value of `node`, as the loader would build it, without its generators:
    texts as they are, other scalars by the loader, duplicate keys refused.
    (Exact type tests and no look-ahead: this runs for every node of the list.)"""
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if kind is yaml.SequenceNode:
        return [_build(item, loader) for item in node.value]
    if kind is not yaml.MappingNode:
        return loader.construct_object(node, deep=True)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:  # `<<:` merge keys, rare: the loader's own way
            return loader.construct_object(node, deep=True)
        key = _build(key_node, loader)
        try:
            known = key in mapping
        except TypeError:  # a list or map as a key
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        if known:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = _build(value_node, loader)
    return mapping


def _load_one(text: str, shown: Path, fast: bool) -> Any:
    loader = _LOADERS[fast](text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # no anchor, no alias: nothing to walk
            _refuse_aliases(node, shown)
        return _build(node, loader)
    finally:
        loader.dispose()


def _whole_yaml(text: str, shown: Path, fast: bool) -> list[Any]:
    try:
        data = _load_one(text, shown, fast)
    except yaml.YAMLError as exc:
        raise _yaml_error(shown, exc) from None
    except RecursionError:
        raise RecipientError(
            f"{shown}: nests lists or maps too deeply to read; an entry is a flat set of fields"
        ) from None
    if data is None:
        return []
    if isinstance(data, dict) and isinstance(data.get("recipients"), list):
        data = data["recipients"]
    if not isinstance(data, list):
        raise RecipientError(
            f"{shown}: expected a list of recipients (or 'recipients:' with a list), "
            f"found {type(data).__name__}"
        )
    if len(data) > MAX_RECIPIENTS:
        raise count_limit(shown, len(data))
    return data


def _item_pattern(path: Path) -> bytes | None:
    """What starts an item of the list (its indent and `-`), or None when the file is
    not a plain block list (or `recipients:` with one) that splits at its items."""
    head = []
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if _ITEM.match(line):
                break
            head.append(line)
        else:
            return None
    if any(not _HEADER.fullmatch(text.rstrip("\r\n")) for text in head):
        return None
    keyed = any(text.startswith("recipients:") for text in head)
    indent = line[: len(line) - len(line.lstrip(" "))]
    if indent and not keyed:
        return None
    return indent.encode() + b"-"  # an item of this list, not a deeper one


_BOM = b"\xef\xbb\xbf"
_AFTER = (b" ", b"\r", b"\n", b"")  # what follows an item's `-`: not `-1`, not `--`


def _count(path: Path, lead: bytes) -> int:
    """How many items the list has: a regex over large pieces of the file, fast."""
    item = re.compile(rb"^" + lead + rb"(?:[ \r\n]|$)", re.MULTILINE)
    found = 0
    with path.open("rb") as handle:
        piece = handle.read(1 << 20).removeprefix(_BOM)
        while piece:
            piece += handle.readline()  # whole lines only
            found += len(item.findall(piece))
            piece = handle.read(1 << 20)
    return found


def _groups(path: Path, lead: bytes) -> Iterator[tuple[str, int]]:
    """The list's items, GROUP at a time: their text and how many. The lines are read
    as bytes (3 million split and tested in half the time) and decoded a group at once."""
    lines: list[bytes] = []
    count = 0
    at = len(lead)
    with path.open("rb") as handle:
        first = handle.readline().removeprefix(_BOM)
        for line in chain((first,), handle):
            if line.startswith(lead) and line[at : at + 1] in _AFTER:
                if count == GROUP:
                    yield b"".join(lines).decode("utf-8"), count
                    lines, count = [], 0
                count += 1
            if count:
                lines.append(line)
    if count:
        yield b"".join(lines).decode("utf-8"), count


def _split_entries(path: Path, shown: Path, fast: bool) -> Iterator[Any]:
    lead = _item_pattern(path)
    if lead is None:
        with _no_gc():
            data = _whole_yaml(path.read_text(encoding="utf-8-sig"), shown, fast)
        yield from data
        return
    counted = _count(path, lead)
    if counted > MAX_RECIPIENTS:
        raise count_limit(shown, counted)
    given = 0
    for text, count in _groups(path, lead):
        try:
            with _no_gc():
                entries = _load_one(text, shown, fast)
        except (yaml.YAMLError, RecursionError):
            entries = None  # not items on their own (or a real error): read the whole file
        if not (isinstance(entries, list) and len(entries) == count):
            with _no_gc():
                data = _whole_yaml(path.read_text(encoding="utf-8-sig"), shown, fast)
            yield from data[given:]
            return
        given += count
        yield from entries


def yaml_entries(path: Path, shown: Path, *, fast: bool = True) -> Iterator[Any]:
    """The entries of a YAML list, one at a time, read GROUP items at a time."""
    try:
        yield from _split_entries(path, shown, fast)
    except UnicodeDecodeError:
        raise RecipientError(f"{shown}: is not UTF-8 text; save it as UTF-8") from None


# -- CSV ------------------------------------------------------------------------


def _decoded(path: Path, shown: Path) -> Iterator[str]:
    """The file's lines as text, a BOM dropped; a line that is not UTF-8 is named."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise RecipientError(
                    f"{shown}: line {number} is not UTF-8 text; save the file as 'CSV UTF-8' "
                    "in your spreadsheet program"
                ) from None


def _dialect(path: Path, shown: Path) -> type[csv.Dialect] | csv.Dialect:
    sample = "".join(line for _, line in zip(range(40), _decoded(path, shown), strict=False))
    try:
        return csv.Sniffer().sniff(sample[:4096], ",;\t")
    except csv.Error:
        return csv.excel


def csv_rows(path: Path, shown: Path) -> Iterator[dict[str | Any, str | Any]]:
    """The rows of a CSV list as dicts of its columns, one at a time."""
    dialect = _dialect(path, shown)
    try:
        with _no_gc():
            counted = sum(1 for _ in csv.reader(_decoded(path, shown), dialect=dialect)) - 1
    except csv.Error:
        counted = 0  # malformed: the reading below names the line
    if counted > MAX_RECIPIENTS:
        raise count_limit(shown, counted)
    reader = csv.DictReader(_decoded(path, shown), dialect=dialect)
    if not reader.fieldnames or "id" not in [name.strip() for name in reader.fieldnames]:
        raise RecipientError(
            f"{shown}: the first row must name the columns, including 'id'; found "
            f"{', '.join(reader.fieldnames or []) or 'nothing'}"
        )
    try:
        for row in reader:
            if None in row:
                raise RecipientError(
                    f"{shown}: line {reader.line_num}: has more cells than the header row; "
                    "check for a stray delimiter"
                )
            yield row
    except csv.Error as exc:
        raise RecipientError(f"{shown}: line {reader.line_num}: malformed CSV: {exc}") from None
