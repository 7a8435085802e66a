"""What the commands show in a terminal: progress bars, tables, the letter as text.
rich is imported only when something is shown, so `advocacy --help` stays fast."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from ..campaign.selection import RecipientRow
    from ..campaign.translations import LanguageStatus
    from ..letter.checks import CheckReport
    from ..preview.terminal import LetterPreview
    from ..send.status import StatusReport
    from ..send.summary import SendSummary
    from ..track.states import Letter


# Control characters (but newline and tab) and the bidi controls: an SMTP reply, a
# recipient list or a catalog could otherwise clear the screen, rewrite a line, or make
# a printed name read backwards. Shown as escapes instead.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """`text` with rich's markup made literal (rich.markup is imported here, when a
    line is shown: 13 ms that `advocacy --help` does not need)."""
    from rich.markup import escape as literal

    return literal(text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character made visible (`\\x1b`, `\\u202e`): the one
    filter every text from outside passes before it reaches the terminal."""
    return _HIDDEN.sub(_escape_char, text)


def _safe_console(**options: Any) -> Console:
    from rich.console import Console

    class SafeConsole(Console):
        # Every str that is printed, or put in a table cell, is rendered here.
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(visible(text), **kwargs)

    return SafeConsole(**options)


class _LazyConsole:
    """A rich Console made on first use: `advocacy --help` need not import rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        """The real Console, for rich objects that need one (a Progress enters it)."""
        if self._console is None:
            self._console = _safe_console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


err: Any = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)
out: Any = _LazyConsole(highlight=False, soft_wrap=True)
_state = {"debug": False}


class ConsoleReporter:
    """Progress bar on a terminal, nothing in a pipe; warnings as single lines."""

    label = "rendering"

    def __init__(self, show_progress: bool, *, quiet: bool = False) -> None:
        self.progress: Progress | None = None
        self.task: Any = None
        self.show_progress = show_progress
        self.quiet = quiet  # --quiet: errors and the summary only

    def start(self, total: int) -> None:
        if self.show_progress and err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=err.get(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=total)

    def advance(self, recipient_id: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=visible(recipient_id))

    def warn(self, message: str) -> None:
        if self.quiet:
            return
        err.print(f"[yellow]warning:[/] {escape(message)}", markup=True, highlight=False)

    def fail(self, recipient_id: str, message: str) -> None:
        err.print(f"[red]failed:[/] {escape(message)}", markup=True, highlight=False)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


class SendProgress(ConsoleReporter):
    """The sending bar; it takes over the terminal from the rendering bar."""

    def __init__(self, show_progress: bool, rendering: ConsoleReporter) -> None:
        super().__init__(show_progress)
        self.rendering = rendering

    label = "sending"

    def start(self, total: int) -> None:
        self.rendering.stop()
        super().start(total)


_BLOCK_STYLES = {"subject": "bold", "heading": "bold", "note": "red", "date": "", "address": ""}


def _wrap(text: str, width: int, indent: int = 0) -> str:
    """Each line of `text` filled to the terminal, indented by `indent` (hanging for items);
    textwrap rather than rich's wrapping keeps lines free of trailing blanks."""
    pad = " " * indent
    return "\n".join(
        textwrap.fill(line, width=width, initial_indent=pad, subsequent_indent=pad)
        for line in text.split("\n")
    )


def print_send(summary: SendSummary) -> None:
    """A real run in one line; a dry run as the table of what would go, and the first
    message as its recipient reads it."""
    from rich.table import Table

    if summary.dry_run and summary.planned:
        table = Table("recipient", "to", "language", "size", "attachment")
        for item in summary.planned:
            names = item.shown or [Path(name).name for name in item.attachments]
            attached = ", ".join(names) or "none"
            table.add_row(
                escape(item.recipient),
                escape(item.to),
                item.language,
                f"{item.size / 1024:.0f} KB",
                escape(attached),
            )
        out.print(table)
        out.print("First message:", style="bold")
        out.print(escape(summary.first_message), highlight=False)
    out.print(escape(summary.headline()))


def print_letter(letter: LetterPreview) -> None:
    """One letter as a reader sees it: facts, the text in blocks, then the warnings."""
    from rich.rule import Rule
    from rich.text import Text

    width = max(out.width, 40)
    facts = {
        "Recipient": f"{letter.recipient_id} — {letter.organisation} ({letter.country})",
        "Language": f"{letter.language} ({letter.language_name}, {letter.review})",
        "Paper": letter.paper,
        "Subject": letter.subject,
        "From": letter.sender,
    }
    for label, value in facts.items():
        shown = _wrap(visible(value), width, 11)[11:]
        out.print(Text.assemble((f"{label:<11}", "bold"), shown))
    out.print(Rule(style="dim"))
    for block in letter.blocks:
        indent = len(block.marker) + 1 if block.marker else 0
        text = _wrap(visible(block.text), width, indent)
        if block.marker:
            text = f"{block.marker} " + text[indent:]
        out.print(Text(text, style=_BLOCK_STYLES.get(block.kind, "")))
        out.print()
    out.print(Rule(style="dim"))
    for warning in letter.warnings:
        message = _wrap(visible(warning.message), width, 9)[9:]
        out.print(Text.assemble(("warning: ", "yellow"), message))
    if letter.others:
        listed = ", ".join(f"{rid} ({language})" for rid, language in letter.others)
        more = f"{len(letter.others)} other letter(s): {listed}; see one with --to ID"
        out.print(Text(_wrap(visible(more), width)))


def print_recipients(rows: list[RecipientRow]) -> None:
    from rich.table import Table

    table = Table("id", "country", "organisation", "language", "paper", "email", "verified")
    for row in rows:
        table.add_row(
            row.id,
            row.country,
            row.organisation,
            row.language,
            row.paper,
            "yes" if row.email else "no",
            str(row.verified) if row.verified else "no",
        )
    out.print(table)
    out.print(f"{len(rows)} recipient(s)")


def print_check(report: CheckReport) -> None:
    """By recipient, the most serious first; the findings most share, once each."""
    for recipient, findings in report.by_recipient():
        out.print(recipient, markup=False, highlight=False, style="bold")
        for finding in findings:
            mark = "blocks: " if finding.blocking else ""
            out.print(f"  {mark}{finding.kind}: {finding.message}", markup=False, highlight=False)
    for kind, ids in report.common():
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        found = next(f for f in report.findings if f.kind == kind)
        what = found.message if kind != "no-email" else "no email address: post the letter"
        out.print(f"{kind}: {len(ids)} recipient(s) ({shown}): {what}", markup=False)
    out.print(report.headline(), markup=False)


def print_translations(rows: list[LanguageStatus]) -> None:
    from rich.table import Table

    table = Table("language", "name", "translated", "fuzzy", "review", "complete")
    for row in rows:
        table.add_row(
            row.language,
            row.name,
            f"{row.translated}/{row.total}",
            str(row.fuzzy),
            row.review,
            "yes" if row.complete else f"no: {len(row.missing)} missing",
        )
    out.print(table)
    from ..letter.gaps import first_words

    for row in rows:
        for msgid in row.missing:
            out.print(f"{row.language}: {first_words(msgid)}", markup=False, highlight=False)
    if any(row.missing for row in rows):
        out.print(
            "Translate them in locales/<lang>/LC_MESSAGES/messages.po (run 'advocacy "
            "translations update' first to add them there).",
            markup=False,
        )


def print_status(report: StatusReport) -> None:
    out.print(escape(report.headline()))
    for line in report.problem_lines():
        out.print(escape(line))


def print_letter_states(items: list[Letter]) -> None:
    """The letters' states (sent, delivered, bounced, replied...), then the ones that
    bounced or were answered."""
    from ..track.states import counts

    totals = counts(items)
    out.print(escape("letters: " + ", ".join(f"{state} {n}" for state, n in totals.items())))
    for item in items:
        last = item.events[-1] if item.events else None
        if last is not None and last.state in ("bounced", "replied", "delivered", "posted"):
            extra = f" {last.code}" if last.code else (f" ({last.how})" if last.how else "")
            out.print(escape(f"  {item.id}: {last.state} {last.day}{extra}"))
