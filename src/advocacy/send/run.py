"""`advocacy send`: email every letter exactly once, or relay them to groups.

1. Render what is missing or out of date in the output folder (`render.render`
   with the same folder), so that what is sent is always a file on disk.
2. Read the messages from those files (outgoing.py), then decide from them and
   the journal (journal.py) what to send:
   - sent with the same Message-ID: done, skipped;
   - sent, but the letter changed since (a new Message-ID): reported, and sent
     again only with `resend_changed`;
   - `sending` at start (a run died between DATA and the journal update):
     reported as unknown, and sent again only with `retry_unknown`;
   - new, pending, deferred or failed: sent.
3. A dry run (the default) stops there: the plan and the first message.
   Otherwise, once guard.py lets it go (never with the example sender; confirmed on
   a terminal), dispatch.py delivers over smtp.py's sessions, and every step is
   journaled as it happens. With `test_to`, test copies (testcopy.py) go to that
   address instead, journaled apart: the real journal is not even opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..errors import AdvocacyError, BadInput, SendInterrupted
from ..formats.mime import sender_address
from ..paths import CAMPAIGN_FILE
from ..render import manifest
from ..render.batch import RenderOptions, RenderSummary, Reporter, SilentReporter, render
from . import guard, ledger, outbound, outgoing, testcopy
from .dispatch import Dispatcher, Job, Policy
from .journal import Entry, Journal, Mark, exclusive
from .outgoing import Outgoing, envelope_problem, preview
from .relay import Group, load_groups
from .smtp import PASSWORD_ENV, Secret, Server, parse_rate, parse_url
from .summary import SendSummary
from .writer import Writer

DEFAULT_CONNECTIONS = 3
MAX_CONNECTIONS = 32


@dataclass
class SendOptions:
    selectors: Sequence[str] = ()
    out: Path = Path("letters")
    smtp_url: str = ""
    mail_from: str = ""
    rate: str = ""
    connections: int | None = None
    limit: int | None = None
    dry_run: bool = True
    via: Path | None = None
    retry_unknown: bool = False
    resend_changed: bool = False
    attach_pdf: bool = True
    cafile: Path | None = None
    retries: int = 4
    backoff: float = 2.0
    timeout: float = 30.0  # seconds for each whole SMTP reply (wire.py)
    today: dt.date | None = None  # the date of the letters; None: today
    jobs: int | None = None  # render processes
    language: str | None = None
    allow_fallback: bool = False  # see RenderOptions
    test_to: str = ""  # send test copies to this address (dry_run stays True)
    yes: bool = False  # a real send goes ahead without being confirmed
    journal_lost: bool = False  # accept a missing or damaged journal: letters go again


def _server(options: SendOptions, campaign: Campaign) -> Server | None:
    settings = campaign.config.smtp
    url = options.smtp_url or settings.url
    if not url:
        return None
    cafile = trusted_cafile(options)
    what = "--smtp" if options.smtp_url else "campaign.toml: smtp.url"
    server = parse_url(url, what=what, cafile=cafile)
    return Server(
        server.host, server.port, server.security, server.username, cafile, options.timeout,
        outbound.helo_for(campaign, options.mail_from),
    )  # fmt: skip


def trusted_cafile(options: SendOptions) -> Path | None:
    """The CA file to trust: only the user's own `--cafile`. A campaign folder's
    `[smtp] cafile` is never read: a stranger's CA would vouch for a server of their
    choosing, which then receives the login and the letters (SECURITY.md)."""
    cafile = options.cafile
    if cafile is not None and not cafile.is_file():
        raise BadInput(f"--cafile {cafile}: no such file")
    return cafile


def _policy(options: SendOptions, campaign: Campaign) -> Policy:
    settings = campaign.config.smtp
    connections = options.connections or settings.connections or DEFAULT_CONNECTIONS
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise BadInput(f"--connections {connections}: give 1 to {MAX_CONNECTIONS}")
    rate_text = options.rate or settings.rate
    what = "--rate" if options.rate else "campaign.toml: smtp.rate"
    rate = parse_rate(rate_text, what) if rate_text else None
    if options.retries < 0 or options.backoff < 0:
        raise BadInput("--retries and --backoff must not be negative")
    return Policy(connections, rate, options.retries, options.backoff)


def password_for(server: Server, ask: Callable[[str], str] | None) -> Secret | None:
    """From ADVOCACY_SMTP_PASSWORD, else asked for; never stored anywhere."""
    if not server.username:
        return None
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return Secret(value)
    if ask is None:
        raise BadInput(
            f"{server}: needs a password; set the environment variable {PASSWORD_ENV} "
            "(it cannot be asked for: standard input is not a terminal)"
        )
    return Secret(ask(f"Password for {server}"))


def _check(job: Job, data: bytes) -> str:
    return envelope_problem(job.recipient, data)


def _test_to(options: SendOptions) -> str:
    if not options.test_to:
        return ""
    if not options.dry_run:
        raise BadInput(
            "--test-to sends test copies to that address only; leave out --no-dry-run "
            "(or --send), which sends to the real recipients"
        )
    return testcopy.test_address(options.test_to)


class _Recorder:
    """Turns delivery events into journal rows (committed at once) and progress."""

    def __init__(self, writer: Writer, summary: SendSummary, progress: Reporter) -> None:
        self.writer, self.summary, self.progress = writer, summary, progress
        self.lock = threading.Lock()

    def sending(self, job: Job) -> Callable[[], None]:
        return self.writer.durable(Mark(job.key, "sending", attempt=True))

    def outcome(self, job: Job, state: str, reply: str, *, counted: bool, final: bool) -> None:
        self.writer.mark(Mark(job.key, state, reply, attempt=not counted))
        if not final:
            return
        with self.lock:
            self.summary.results[state].append({"key": job.key, "reply": reply})
        if state != "sent":
            later = {
                "deferred": " (deferred: the next run tries again)",
                "unknown": f" (unknown: Message-ID {job.message_id})",
            }.get(state, "")
            self.progress.fail(job.key, f"{job.key} <{job.recipient}>: {reply}{later}")
        self.progress.advance(job.key)


def _decide(
    found: list[Outgoing], journal: Journal | None, options: SendOptions, summary: SendSummary
) -> list[Outgoing]:
    todo = []
    for item in found:
        row = journal.get(item.key) if journal is not None else None
        if row is None or row.state in ("pending", "deferred", "failed"):
            todo.append(item)
        elif row.state == "sent":
            if row.message_id == item.message_id:
                summary.already_sent.append(item.key)
            else:
                summary.changed.append(item.key)
                if options.resend_changed:
                    todo.append(item)
        elif row.state in ("sending", "unknown"):
            summary.unknown.append(row)
            if options.retry_unknown:
                todo.append(item)
    return _limited(todo, options, summary)


def _limited(todo: list[Outgoing], options: SendOptions, summary: SendSummary) -> list[Outgoing]:
    if options.limit is not None and len(todo) > options.limit:
        summary.held_back = len(todo) - options.limit
        todo = todo[: options.limit]
    return todo


def _warn_states(summary: SendSummary, options: SendOptions, reporter: Reporter) -> None:
    messages = []  # (recipients without an email address: the render has named them)
    if summary.unknown and not options.retry_unknown:
        keys = ", ".join(entry.key for entry in summary.unknown)
        messages.append(
            f"{len(summary.unknown)} message(s) in an unknown state ({keys}): an earlier run "
            "stopped while the server was receiving them, so they may have arrived; check, "
            "then send them with --retry-unknown if they did not"
        )
    if summary.changed and not options.resend_changed:
        messages.append(
            f"{len(summary.changed)} letter(s) changed after they were sent "
            f"({', '.join(summary.changed)}); send the new version with --resend-changed"
        )
    if summary.held_back and options.test_to:
        messages.append(f"--limit: {summary.held_back} more letter(s) got no test copy")
    elif summary.held_back:
        messages.append(f"--limit: {summary.held_back} more message(s) wait for the next run")
    for message in messages:
        summary.warnings.append(message)
        reporter.warn(message)


def send(
    campaign: Campaign,
    options: SendOptions,
    reporter: Reporter | None = None,
    progress: Reporter | None = None,
    ask_password: Callable[[str], str] | None = None,
    confirm: Callable[[str], str] | None = None,
) -> SendSummary:
    """Render what is missing, then send what is not yet sent (or plan it, in a dry
    run). `reporter` hears the rendering, `progress` the sending. The campaign is the
    one rendered from, too: it is opened once, by the caller. `ask_password` and
    `confirm` ask the person at the terminal (None: there is none)."""
    hooks = _Hooks(
        reporter or SilentReporter(), progress or SilentReporter(), ask_password, confirm
    )
    hooks.prepare = outbound.preparer_for(campaign, options.mail_from)
    started = time.perf_counter()
    test_to = _test_to(options)
    if not options.dry_run:
        guard.refuse_placeholder(campaign)
    recipients = select(campaign.recipients, options.selectors)
    server = _server(options, campaign)
    policy = _policy(options, campaign)
    if options.limit is not None and options.limit < 0:
        raise BadInput("--limit must not be negative")
    dry_run = options.dry_run and not test_to
    if server is None and not dry_run:
        raise BadInput(
            "no mail server: give --smtp smtp://user@host:587 or set url in the [smtp] table "
            "of campaign.toml"
        )
    summary = SendSummary(
        str(options.out), dry_run, str(server) if server else "", str(campaign.root), test_to
    )
    if campaign.config.smtp.cafile and options.cafile is None:
        ignored = (
            f"{CAMPAIGN_FILE}: smtp.cafile is ignored: a campaign folder never chooses which "
            "certificates are trusted; if the server is yours, give --cafile PEM"
        )
        summary.warnings.append(ignored)
        hooks.reporter.warn(ignored)
    # A bad relay list stops the run before anything is rendered.
    groups = load_groups(options.via, recipients) if options.via is not None else []
    with exclusive(options.out), manifest.hashes_remembered():
        try:
            _run(options, campaign, recipients, groups, server, policy, summary, hooks)
        finally:
            summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Hooks:
    reporter: Reporter
    progress: Reporter
    ask_password: Callable[[str], str] | None
    confirm: Callable[[str], str] | None
    prepare: Callable[[bytes], bytes] | None = None  # each message's bytes as they go


def _run(
    options: SendOptions,
    campaign: Campaign,
    recipients: Sequence[Recipient],
    groups: list[Group],
    server: Server | None,
    policy: Policy,
    summary: SendSummary,
    hooks: _Hooks,
) -> None:
    out = options.out
    # A journal that is damaged, or lost after letters were sent, stops even a dry run
    # (its plan would be wrong) before anything is rendered.
    readable = not summary.test_to and ledger.check(out, journal_lost=options.journal_lost)
    wanted = {"pdf"} if groups else {"eml", *(["pdf"] if options.attach_pdf else [])}
    # Emailed letters need no postal address: render only those with an email, their
    # windows left empty when the address is unchecked (the print run fails or marks
    # them). Relayed letters are printed: the campaign's own rule holds.
    selectors = list(options.selectors) if groups else [r.id for r in recipients if r.email]
    rendered = RenderSummary(campaign.config.campaign.title, str(campaign.root), str(out))
    if groups or selectors:  # no selector would mean every recipient
        rendered = _render(campaign, options, selectors, wanted, bool(groups), hooks.reporter)
    summary.warnings += rendered.warnings
    summary.not_made = list(rendered.failed)
    broken = {f.recipient for f in rendered.failed}
    # The folder's letters as the render check left them (not manifest.json read again).
    listed = (
        rendered.folder_letters() if rendered.folder is not None else manifest.load(out).letters
    )
    letters = {
        letter.recipient: letter
        for letter in listed
        if letter.recipient not in broken and manifest.trusted(out, letter)
    }
    if groups:
        found = outgoing.relayed(
            campaign, groups, recipients, letters, out, options.mail_from, hooks.reporter
        )
    else:
        summary.no_email = [r.id for r in recipients if not r.email]
        emailed = [
            r for r in recipients if r.email and r.id in letters and letters[r.id].file(".eml")
        ]
        sender = sender_address(campaign, options.mail_from).addr_spec
        found = outgoing.letters(
            out, letters, emailed, options.attach_pdf, sender, hooks.reporter,
            checked=summary.dry_run or bool(summary.test_to),
        )  # fmt: skip
    summary.not_made += found.not_made
    summary.warnings += found.warnings

    first = True
    if summary.test_to:  # every selected letter, whatever the real journal says
        summary.planned = _limited(found.messages, options, summary)
    else:  # read only: a send refused or not confirmed leaves no journal behind
        with contextlib.ExitStack() as stack:
            journal = Journal.read(out) if readable else None
            if journal is not None:
                stack.enter_context(journal)
            summary.planned = _decide(found.messages, journal, options, summary)
            first = guard.first_send(journal)
    _warn_states(summary, options, hooks.reporter)
    if summary.dry_run or not summary.planned:
        if summary.planned:
            summary.first_message = preview(summary.planned[0].path)
        return
    assert server is not None
    check: Callable[[Job, bytes], str] = _check
    if summary.test_to:
        summary.planned = testcopy.copies(summary.planned, out, summary.test_to)
        check, journal = testcopy.verify(summary.test_to), Journal(out / testcopy.TEST_JOURNAL)
    else:
        chosen, yes = bool(options.selectors), options.yes
        guard.confirm_send(
            summary.planned, str(server), first=first, chosen=chosen, yes=yes, confirm=hooks.confirm
        )
        journal = ledger.open_for_sending(out, journal_lost=options.journal_lost)
    with journal:
        try:
            _deliver(summary, journal, server, policy, hooks, check)
        finally:
            if not summary.test_to:  # a full disk keeps the ledger written at the start
                with contextlib.suppress(AdvocacyError, sqlite3.Error):
                    ledger.record(out, journal)


def _render(
    campaign: Campaign,
    options: SendOptions,
    selectors: list[str],
    wanted: set[str],
    relayed: bool,
    reporter: Reporter,
) -> RenderSummary:
    return render(
        campaign,
        RenderOptions(
            selectors=selectors,
            no_address=None if relayed else "omit",
            formats=sorted(wanted),  # the folder's other files stay as they are
            out=options.out,
            language=options.language,
            today=options.today,
            jobs=options.jobs,
            attach_pdf=options.attach_pdf,
            mail_from=options.mail_from,
            allow_fallback=options.allow_fallback,
        ),
        reporter,
    )


def _deliver(
    summary: SendSummary,
    journal: Journal,
    server: Server,
    policy: Policy,
    hooks: _Hooks,
    check: Callable[[Job, bytes], str],
) -> None:
    password = password_for(server, hooks.ask_password)
    progress = hooks.progress
    journal.set_meta("campaign", summary.campaign)
    journal.queue(
        [
            Entry(
                key=item.key,
                kind=item.kind,
                recipient=item.recipient,
                language=item.language,
                email=item.rcpt,
                path=item.relative,
                sha256=item.sha256,
                message_id=item.message_id,
            )
            for item in summary.planned
        ]
    )
    jobs = [
        Job(
            item.key,
            item.sender,
            item.rcpt,
            item.path,
            message_id=item.message_id,
            sha256=item.sha256,
        )
        for item in summary.planned
    ]
    progress.start(len(jobs))
    writer = Writer(journal)
    recorder = _Recorder(writer, summary, progress)
    sender = jobs[0].sender if jobs else ""
    dispatcher = Dispatcher(server, password, policy, recorder, check, sender, hooks.prepare)
    try:
        try:
            dispatcher.run(jobs)
        finally:
            writer.close()
    except KeyboardInterrupt:
        done = len(summary.results["sent"])
        raise SendInterrupted(
            f"interrupted: {done} of {len(jobs)} message(s) sent; the message in flight was "
            f"finished and the journal in {summary.out}/ is up to date; run the same command "
            "again to send the rest"
        ) from None
