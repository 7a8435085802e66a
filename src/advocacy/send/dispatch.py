"""Delivery of many messages: parallel SMTP sessions, a token-bucket rate limit, and
retries with exponential backoff.

What happens to a message:
  2xx after its data          sent
  4xx at any step (and 421)   deferred, tried again after backoff x 1, 2, 4, ...
  5xx at any step             failed, with the server's reply; the batch goes on,
                              unless verdict.py finds it refuses every message
  connection lost before the final "." of the data: tried again on a new
  connection (the server cannot have taken a message it has not seen end)
  connection lost after the final ".", before the reply: unknown, never sent
  again by itself (the server may have queued it: RFC 5321 section 6.1)

Every step is reported through `Events` (run.py journals them).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import (
    AdvocacyError,
    Dropped,
    LostAfterData,
    PoolShrunk,
    SmtpError,
    Transient,
    Unresponsive,
)
from .smtp import Reply, Secret, Server, Session
from .verdict import Verdict


class TokenBucket:
    """At most `rate` messages a second on average, bursts of up to `burst`."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass(order=True)
class Job:
    key: str
    sender: str = field(compare=False)
    recipient: str = field(compare=False)
    path: Path = field(compare=False)
    tries: int = field(default=0, compare=False)
    message_id: str = field(default="", compare=False)
    sha256: str = field(default="", compare=False)  # of the file when it was checked


class Events(Protocol):
    """How delivery reports back (run.py writes the journal from these)."""

    def sending(self, job: Job) -> Callable[[], None]:
        """Start writing that `job` is going out; the function returned waits until it is
        on disk, and is called before any of the message is handed over."""
        ...

    def outcome(self, job: Job, state: str, reply: str, *, counted: bool, final: bool) -> None: ...


@dataclass
class Policy:
    connections: int = 3
    rate: float | None = None  # messages per second
    retries: int = 4  # further tries of a message after a 4xx or a lost connection
    backoff: float = 2.0  # seconds before the first retry; doubled each time
    # A session is reused for at most `reuse_seconds`, as Postfix's own client does
    # (smtp_connection_reuse_time_limit, 300 s; its count limit is off by default).
    # A server that caps messages per connection answers 421 at the next MAIL FROM;
    # from then on the run opens a new session after that many (`per_session`).
    reuse_seconds: float = 300.0
    per_session: int | None = None


class _Queue:
    """Jobs by the time they may go; knows when nothing is left to come back."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.counter = itertools.count()
        self.heap = [(0.0, next(self.counter), job) for job in jobs]
        self.outstanding = len(jobs)
        self.cond = threading.Condition()

    def take(self, stop: threading.Event) -> Job | None:
        with self.cond:
            while not stop.is_set():
                if self.heap:
                    wait = self.heap[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self.heap)[2]
                    self.cond.wait(min(wait, 0.5))
                elif self.outstanding == 0:
                    return None
                else:
                    self.cond.wait(0.5)
            return None

    def later(self, job: Job, delay: float = 0.0) -> None:
        with self.cond:
            heapq.heappush(self.heap, (time.monotonic() + delay, next(self.counter), job))
            self.cond.notify_all()

    def done(self) -> None:
        with self.cond:
            self.outstanding -= 1
            self.cond.notify_all()

    def waiting(self) -> int:
        with self.cond:
            return len(self.heap)

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


class Dispatcher:
    """Sends jobs over a pool of sessions, each in its own thread.

    The first session logs in before any other is opened: a wrong password is
    refused once, not once per connection. The pool starts at that one session
    and grows by one after each message sent, up to `policy.connections`; a
    connection the server refuses (421 "too many connections", refused, timed out)
    while others are open shrinks the pool for the rest of the run, and the batch
    goes on over the sessions that remain."""

    def __init__(
        self,
        server: Server,
        password: Secret | None,
        policy: Policy,
        events: Events,
        verify: Callable[[Job, bytes], str] | None = None,
        sender: str = "",
        prepare: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.server, self.password, self.policy, self.events = server, password, policy, events
        # Run on the very bytes about to go: a non-empty answer fails the job unsent.
        self.verify = verify
        self.prepare = prepare  # the Date of sending, a DKIM signature (outbound.py)
        self.verdict = Verdict(sender)
        self.stop = threading.Event()
        self.bucket = TokenBucket(policy.rate, burst=policy.connections) if policy.rate else None
        self.fatal: AdvocacyError | None = None
        self.queue = _Queue([])
        self.pool = threading.Condition()
        self.alive = 0  # worker threads
        self.ceiling = policy.connections  # lowered when the server refuses a connection
        self.peak = 0  # the most sessions open at once
        self.cap = policy.per_session  # messages a session takes, once the server says

    def run(self, jobs: Sequence[Job]) -> None:
        """Send everything; Ctrl-C lets each session finish its message, then re-raises."""
        self.queue = _Queue(jobs)
        if not jobs:
            return
        first = self._connect(first=True)
        if first is None:
            return
        self._spawn(first)
        # A condition with a timeout, not Thread.join: a join cut short by Ctrl-C may
        # not be waited on again.
        try:
            self._wait()
        except KeyboardInterrupt:
            self.halt()
            self._wait()  # the message in flight finishes and is journaled
            raise
        if self.fatal is not None:
            raise self.fatal

    def _wait(self) -> None:
        with self.pool:
            while self.alive:
                self.pool.wait(0.2)

    def _spawn(self, session: Session | None) -> None:
        with self.pool:
            self.alive += 1
            self.peak = max(self.peak, self.alive)
        threading.Thread(target=self._worker, args=(session,), daemon=True).start()

    def _grow(self) -> None:
        """One more session after a message sent, while there is work waiting for it."""
        with self.pool:
            grow = not self.stop.is_set() and self.alive < self.ceiling
            grow = grow and self.queue.waiting() > 0
        if grow:
            self._spawn(None)

    def halt(self) -> None:
        self.stop.set()
        self.queue.wake()

    def _worker(self, session: Session | None) -> None:
        counted = True  # this worker is still in self.alive
        job: Job | None = None
        try:
            while True:
                job = self.queue.take(self.stop)
                if job is None:
                    return
                if self.bucket is not None:
                    wait = self.bucket.reserve()
                    if wait > 0 and self.stop.wait(wait):
                        self.queue.later(job)
                        return
                if session is not None and self._worn(session):
                    session.quit()
                    session = None
                if session is None:
                    session = self._connect()
                    if session is None:  # stopped
                        self.queue.later(job)
                        return
                if not self._attempt(session, job):
                    session.close()
                    session = None
        except PoolShrunk:  # the pool goes on without this worker; another takes its job
            counted = False
            if job is not None:
                self.queue.later(job)
        except AdvocacyError as exc:
            self.fatal = self.fatal or exc
            self.halt()
        except Exception as exc:  # a bug must not leave the other sessions waiting
            error = SmtpError(f"sending stopped by an internal error ({type(exc).__name__})")
            error.__cause__ = exc  # shown with --debug
            self.fatal = self.fatal or error
            self.halt()
        finally:
            if session is not None:
                session.quit()
            with self.pool:
                self.alive -= int(counted)
                self.pool.notify_all()

    def _worn(self, session: Session) -> bool:
        """Time for a fresh session: this one is old, or has sent what the server takes."""
        return (self.cap is not None and session.messages >= self.cap) or (
            time.monotonic() - session.opened >= self.policy.reuse_seconds
        )

    def _capped(self, session: Session, reply: Reply) -> None:
        """A 421 to MAIL FROM after messages went over this session: the server's cap
        per connection, kept for the sessions to come (one message deferred, not one
        a session)."""
        if reply.code == 421 and reply.stage == "mail" and session.messages:
            with self.pool:
                self.cap = min(self.cap or session.messages, session.messages)

    def _connect(self, first: bool = False) -> Session | None:
        """A logged-in session, trying again with backoff; None when stopped. Raises
        PoolShrunk when the server refuses a connection while others are open."""
        last = ""
        for attempt in range(self.policy.retries + 1):
            if attempt and self.stop.wait(self.policy.backoff * 2 ** (attempt - 1)):
                return None
            session = Session(self.server, self.password)
            try:
                session.open()
                return session
            except Unresponsive as exc:
                if first:  # a server that greets nobody: waiting longer changes nothing
                    raise SmtpError(
                        f"{self.server}: {exc} (--timeout); nothing was sent: check the host "
                        "and port, then run the same command again"
                    ) from None
                last = str(exc)
            except Transient as exc:
                last = str(exc)
            if not first:
                self._shrink()
        raise SmtpError(
            f"{self.server}: cannot connect ({last}), also after {self.policy.retries} "
            "retries; check the host and port, then run the same command again"
        )

    def _shrink(self) -> None:
        """Leave the pool, for the rest of the run, when other sessions go on."""
        with self.pool:
            if self.alive <= 1:
                return
            self.alive -= 1
            self.ceiling = max(1, min(self.ceiling, self.alive))
            self.pool.notify_all()
        raise PoolShrunk

    def _attempt(self, session: Session, job: Job) -> bool:
        """Send one job; False when the session is no longer usable."""
        job.tries += 1
        try:
            data = job.path.read_bytes()
        except OSError as exc:
            self._final(job, "failed", f"cannot read {job.path}: {exc.strerror}", False)
            return True
        # The bytes that go are the ones checked (manifest.file_intact, journal queue).
        if job.sha256 and hashlib.sha256(data).hexdigest() != job.sha256:
            problem = f"not sent: {job.path} changed after it was checked; render it again"
            self._final(job, "failed", problem, False)
            return True
        if self.prepare is not None:
            data = self.prepare(data)
        problem = self.verify(job, data) if self.verify is not None else ""
        if problem:
            self._final(job, "failed", problem, False)
            return True
        # The mark is committed while MAIL, RCPT and DATA travel and are answered; the
        # session waits for it only before the message itself goes. From here on, the
        # attempt is counted in that mark.
        on_disk = self.events.sending(job)
        try:
            reply = session.send(job.sender, job.recipient, data, on_disk)
        except LostAfterData as exc:
            self._final(job, "unknown", f"{LOST} ({exc})", True)
            self._stop_if(self.verdict.unknown(True))
            return False
        except Dropped as exc:
            self._again(job, f"connection lost before the end of the data ({exc})", True)
            return False
        if 200 <= reply.code < 300:
            self._final(job, "sent", str(reply), True)
            self._stop_if(self.verdict.unknown(False) or self.verdict.judge(None))
            self._grow()
        elif 400 <= reply.code < 500:
            self._capped(session, reply)
            self._again(job, str(reply), True)
            return reply.code != 421  # 421: the server is closing this session
        else:
            self._final(job, "failed", str(reply), True)
            self._stop_if(self.verdict.judge(reply))
        return True

    def _final(self, job: Job, state: str, reply: str, counted: bool) -> None:
        self.events.outcome(job, state, reply, counted=counted, final=True)
        self.queue.done()

    def _stop_if(self, why: str) -> None:
        if why:
            raise SmtpError(f"{self.server}: {why}")

    def _again(self, job: Job, reply: str, counted: bool) -> None:
        final = job.tries > self.policy.retries
        self.events.outcome(job, "deferred", reply, counted=counted, final=final)
        if final:
            self.queue.done()
        else:
            self.queue.later(job, self.policy.backoff * 2 ** (job.tries - 1))


# The reply journaled for a message whose connection ended after its final ".".
LOST = (
    "the connection ended after the end of the message, before the server's reply: it may "
    "have arrived; not sent again by itself (check the server's log for its Message-ID, "
    "then use --retry-unknown if it did not arrive)"
)
