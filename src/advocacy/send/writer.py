"""The journal's writer: one thread commits the sessions' marks in order, grouping what
is queued into one transaction, so that a message costs one fsync, not two."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from ..errors import OutputError
from .journal import Journal, Mark

OUTCOME_DELAY = 0.25  # seconds an outcome may wait for the next mark to share a commit


class _Commit:
    """A mark somebody waits for: set once its transaction is over, with its error."""

    __slots__ = ("error", "event")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: BaseException | None = None


class Writer:
    """Commits marks in order from one thread, grouping what is queued into one
    transaction. Sessions wait only for the mark that must be on disk before the
    end of a message's data goes out (`sending`); an outcome lost to a crash
    leaves that row `sending`, which is reported as unknown and never resent."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.cond = threading.Condition()
        self.queue: list[tuple[Mark, _Commit | None]] = []
        self.error: BaseException | None = None
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self.thread.start()

    def mark(self, mark: Mark) -> None:
        """Queue `mark`; it is committed with the next one somebody waits for."""
        self._put(mark, None)

    def durable(self, mark: Mark) -> Callable[[], None]:
        """Queue `mark` for commit now; the function returned waits until it is on disk,
        and raises if it could not be written. The commit runs while the caller goes
        on: a session writes its commands while the fsync happens. Only this mark's
        own commit counts: a message whose mark is on disk may go even when a later
        commit failed (else its row would say `sending` of a letter that never left)."""
        done = _Commit()
        self._put(mark, done)

        def wait() -> None:
            done.event.wait()
            if done.error is not None:
                raise self._failed(done.error)

        return wait

    def _put(self, mark: Mark, done: _Commit | None) -> None:
        with self.cond:
            self._raise()
            self.queue.append((mark, done))
            self.cond.notify()

    def _raise(self) -> None:
        if self.error is not None:
            raise self._failed(self.error)

    def _failed(self, error: BaseException) -> OutputError:
        return OutputError(f"{self.journal.path}: cannot write the send journal: {error}")

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue and not self.closing:
                    self.cond.wait()
                # An outcome nobody waits for rides with the next `sending` mark (one
                # fsync a message, not two), or goes after OUTCOME_DELAY at the latest.
                deadline = time.monotonic() + OUTCOME_DELAY
                while not self.closing and not any(done for _, done in self.queue):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                batch, self.queue = self.queue, []
                if not batch and self.closing:
                    return
            failed: BaseException | None = None
            try:
                self.journal.mark_many([mark for mark, _ in batch])
            except (sqlite3.Error, OSError) as exc:
                failed = exc
                with self.cond:
                    self.error = self.error or exc
            for _, done in batch:
                if done is not None:
                    done.error = failed
                    done.event.set()

    def close(self) -> None:
        """Everything queued is committed when this returns."""
        with self.cond:
            self.closing = True
            self.cond.notify()
        self.thread.join()
        with self.cond:
            self._raise()
