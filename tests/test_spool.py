"""The spool keeps its items on disk, written a megabyte at a time: every item reads
back the same whether it is written yet or not, here and in a forked worker."""

from __future__ import annotations

import multiprocessing
import os
import pickle

import pytest

from advocacy import spool
from advocacy.spool import Spool


def _items(count: int) -> list[dict[str, object]]:
    return [{"id": f"r{i}", "text": "x" * (i % 5000), "n": i} for i in range(count)]


def test_items_read_back_before_and_after_they_are_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spool, "KEEP", 0)  # every item read from its pickle
    items = _items(2_000)  # about 2 MB: a write or two and a tail still held
    kept = Spool(items[:10])
    assert kept[3] == items[3]  # held only in memory yet
    kept.extend(items[10:])
    assert kept._file.written < kept._file.end  # the tail is not written yet
    assert list(kept) == items
    assert kept[-1] == items[-1]
    assert os.fstat(kept._file.fd).st_size == kept._file.end  # now it is
    assert kept._file.end > spool.BUFFER


def _read_in_child(kept: Spool[dict[str, object]], index: int, pipe: object) -> None:
    pipe.send(kept[index])  # type: ignore[attr-defined]


def test_a_forked_worker_reads_items_not_yet_written() -> None:
    items = _items(50)
    kept = Spool(items)
    assert kept._file.written == 0
    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_read_in_child, args=(kept, 49, child)
    )
    process.start()
    assert parent.recv() == items[49]
    process.join()
    assert list(kept) == items


def test_a_small_spool_reads_its_items_without_unpickling_and_a_large_one_stays_on_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads = []
    real = pickle.loads

    def counted(data: bytes) -> object:
        loads.append(len(data))
        return real(data)

    monkeypatch.setattr(spool.pickle, "loads", counted)
    items = [{"id": f"r{i}", "text": "x" * 2000} for i in range(300)]  # 0.6 MB: under KEEP
    small = Spool(items)
    for _ in range(3):  # a dozen passes over 1000 recipients cost send 0.2 s
        assert list(small) == items
    assert small.subset([2, 0])[:] == [items[2], items[0]] and loads == []
    many = items * 2  # 1.2 MB: past KEEP, the objects are let go and the pickles read
    large = Spool(many)
    assert large._file.objects is None
    assert list(large) == many and len(loads) == 600
