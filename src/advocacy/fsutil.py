"""Atomic file writes and path containment checks."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "wb", *, durable: bool = True) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside `path`, then rename it into place.

    A crash leaves either the old file or the new one, never half of one.
    `durable=False` skips the fsync: for files whose size and sha256 are recorded and
    checked before they are used again (the letters), where a power cut can cost a
    file but never pass off a torn one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; letters are ordinary files
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    with atomic_writer(path, durable=durable) as handle:
        handle.write(data)


def links_out(path: Path, root: Path) -> bool:
    """True when `path` exists (or is a dangling link) and resolves outside `root`."""
    return (path.is_symlink() or path.exists()) and not is_within(path, root)


def is_within(path: Path, root: Path) -> bool:
    """True when `path`, with symlinks and `..` resolved, lies inside `root`."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True
