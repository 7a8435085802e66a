"""A list whose items live in a temporary file, not in memory.

A campaign of 100,000 recipients, and the records of 100,000 letters, would take
gigabytes as Python objects (a recipient is ~3 KB of them, ~0.7 KB pickled). A
`Spool` keeps each item pickled in an unlinked temporary file and only its offset
in memory, and unpickles an item when it is read: the memory of a batch stays flat
in its size. Forked worker processes share the file and read it with `pread`.
A small spool (pickles under KEEP) also keeps the items themselves, which are
read as they are: items are never changed once appended.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
BUFFER = 1 << 18  # bytes of items held before they are written (several spools are open)
# A spool whose pickles stay under this also keeps its items as objects (a few MiB,
# less than the interpreter itself): `send` of 1000 letters went over the recipients
# and letters a dozen times, each pass unpickling all of them (15-30 ms). Past it,
# the objects are dropped and every read unpickles: memory flat in the size.
KEEP = 1 << 20


class _File:
    """The unlinked file and where each item is in it."""

    def __init__(self) -> None:
        self.fd, name = tempfile.mkstemp(prefix="advocacy-spool-")
        os.unlink(name)  # gone with the last process that has it open
        weakref.finalize(self, os.close, self.fd)
        self.offsets = array("Q")
        self.sizes = array("L")
        self.end = 0
        # Items not yet written, from `written` on: one write per BUFFER bytes, not
        # one per item (a tenth of the time of loading 100,000 recipients).
        self.pending: list[bytes] = []
        self.written = 0
        self.objects: list[Any] | None = []  # the items themselves, while small

    def add(self, data: bytes, item: Any) -> int:
        self.pending.append(data)
        if self.objects is not None:
            self.objects.append(item)
            if self.end + len(data) >= KEEP:
                self.objects = None
        self.offsets.append(self.end)
        self.sizes.append(len(data))
        self.end += len(data)
        if self.end - self.written >= BUFFER:
            self.flush()
        return len(self.offsets) - 1

    def flush(self) -> None:
        if self.pending:
            os.pwrite(self.fd, b"".join(self.pending), self.written)
            self.pending, self.written = [], self.end

    def read(self, slot: int) -> Any:
        if self.objects is not None:
            return self.objects[slot]
        offset = self.offsets[slot]
        if offset >= self.written:
            self.flush()
        return pickle.loads(os.pread(self.fd, self.sizes[slot], offset))


class Spool(Sequence[T], Generic[T]):
    """A sequence of picklable items kept on disk; `append`, `reorder` and `subset` too."""

    def __init__(self, items: Iterable[T] = (), *, _file: _File | None = None,
                 _slots: array[int] | None = None) -> None:  # fmt: skip
        self._file = _file or _File()
        self._slots: array[int] = array("L") if _slots is None else _slots
        for item in items:
            self.append(item)

    def append(self, item: T) -> None:
        self._slots.append(self._file.add(pickle.dumps(item, pickle.HIGHEST_PROTOCOL), item))

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return len(self._slots)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._file.read(slot) for slot in self._slots[index]]
        item: T = self._file.read(self._slots[index])
        return item

    def __iter__(self) -> Iterator[T]:
        for slot in self._slots:
            yield self._file.read(slot)

    def subset(self, positions: Iterable[int]) -> Spool[T]:
        """The items at `positions`, in that order, sharing this spool's file."""
        return Spool(_file=self._file, _slots=array("L", (self._slots[p] for p in positions)))

    def reorder(self, order: Sequence[int]) -> None:
        """Put the items in the order of `order`: their present indexes, each once."""
        self._slots = array("L", (self._slots[index] for index in order))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        # A file descriptor does not travel: a pickled spool is a plain list.
        return (list, (list(self),))

    def __repr__(self) -> str:
        return f"Spool({len(self)} items)"
