"""Bounds on making one letter, whatever its templates and catalogs do.

A fixed set of checks per filter cannot close every way a template makes a big
string or a long loop (`|center(10**8)`, `|join`, a loop that doubles a list), so
the whole render of one letter is bounded instead:

- output: the HTML one template renders (`MAX_OUTPUT` characters);
- loop iterations: every `{% for %}` step and every call a template makes, summed
  over the letter (`MAX_ITERATIONS`);
- CPU time of the letter (`MAX_CPU_SECONDS`), checked at every step and, in a
  process's main thread, by a profiling timer that also stops one long operation;
- memory: the process's data segment may grow by `MAX_MEMORY` while the letter is
  made (`resource.setrlimit(RLIMIT_DATA)`), so an allocation beyond it fails with
  MemoryError instead of swapping the machine.

A bound that is reached raises `LimitReached` (a SecurityError: the sandbox's own
kind of refusal), which fails that letter alone with one line."""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType

from jinja2.exceptions import SecurityError

MAX_OUTPUT = 2_000_000  # characters of HTML one template renders (a letter is ~30 kB)
MAX_ITERATIONS = 1_000_000  # loop steps and calls in one letter (a letter makes ~2,000)
MAX_CPU_SECONDS = 10.0  # CPU time of one letter (a letter takes ~0.3 s with its PDF)
MAX_MEMORY = 500 * 1024 * 1024  # bytes one letter may add to its process's data segment
MAX_INT_BITS = 100_000  # bits of a number a template computes (`**`, `*` chains)


class LimitReached(SecurityError):
    """One of the bounds of a letter was reached."""


@dataclass
class Budget:
    what: str  # the letter's template, for a refusal from outside the template
    steps: int = 0
    started: float = field(default_factory=time.thread_time)

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_ITERATIONS:
            raise LimitReached(
                f"the letter runs more than {MAX_ITERATIONS:,} loop steps and calls "
                "(the limit of one letter)"
            )
        if self.steps % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.thread_time() - self.started > MAX_CPU_SECONDS:
            raise LimitReached(cpu_message("the letter"))


def cpu_message(what: str) -> str:
    return f"{what} takes more than {MAX_CPU_SECONDS:g} s of CPU time (the limit of one letter)"


def memory_message(what: str) -> str:
    return (
        f"{what} needs more than {MAX_MEMORY // (1024 * 1024)} MB of memory "
        "(the limit of one letter)"
    )


def output_message(what: str) -> str:
    return f"{what} makes more than {MAX_OUTPUT:,} characters of HTML (the limit of one letter)"


_BUDGET: ContextVar[Budget | None] = ContextVar("advocacy_letter_budget", default=None)


def step(count: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.step(count)


def bounded_iter(iterable: Iterable[object]) -> Iterator[object]:
    """What a `{% for %}` loops over, one step of the budget per item."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.step()
        yield item


def bounded_concat(chunks: Iterable[str]) -> str:
    """A template's output, refused once it passes MAX_OUTPUT characters."""
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise LimitReached(output_message("the letter"))
        out.append(chunk)
    step(len(out) // 64)
    return "".join(out)


# -- memory and the CPU timer: once per process, however many letters nest ----------

_LOCK = threading.Lock()
_ACTIVE = 0
_SAVED: tuple[int, int] | None = None


def _data_size() -> int:
    """The process's data segment now (VmData: what RLIMIT_DATA counts)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _on_timer(signum: int, frame: FrameType | None) -> None:
    raise LimitReached(cpu_message("the letter"))


@contextlib.contextmanager
def _process_bounds() -> Iterator[None]:
    global _ACTIVE, _SAVED
    with _LOCK:
        _ACTIVE += 1
        if _ACTIVE == 1:
            soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
            size = _data_size()
            if size:
                wanted = size + MAX_MEMORY
                if hard != resource.RLIM_INFINITY:
                    wanted = min(wanted, hard)
                if soft == resource.RLIM_INFINITY or wanted < soft:
                    _SAVED = soft, hard
                    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE -= 1
            if _ACTIVE == 0 and _SAVED is not None:
                resource.setrlimit(resource.RLIMIT_DATA, _SAVED)
                _SAVED = None


@contextlib.contextmanager
def _cpu_timer() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread gets signals: steps check the time there
        return
    previous = signal.signal(signal.SIGPROF, _on_timer)
    signal.setitimer(signal.ITIMER_PROF, MAX_CPU_SECONDS + 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@contextlib.contextmanager
def letter(what: str) -> Iterator[Budget]:
    """The bounds of making one letter (`what` names it in a refusal: its template).
    Nested use (the worker around the composer) shares the outer letter's bounds."""
    outer = _BUDGET.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(what)
    token = _BUDGET.set(budget)
    try:
        with _process_bounds(), _cpu_timer():
            yield budget
    finally:
        _BUDGET.reset(token)
