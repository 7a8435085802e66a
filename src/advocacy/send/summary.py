"""What a send run did, or would do in a dry run: the plan, the skipped messages,
the outcomes, and the line and JSON they are shown as."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import AdvocacyError, SendFailed
from ..render.results import Failure, failure_error
from .journal import Entry
from .outgoing import Outgoing
from .testcopy import TEST_JOURNAL


@dataclass
class SendSummary:
    out: str
    dry_run: bool
    server: str = ""
    campaign: str = ""  # the campaign folder
    test_to: str = ""
    planned: list[Outgoing] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    unknown: list[Entry] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    no_email: list[str] = field(default_factory=list)
    held_back: int = 0
    not_made: list[Failure] = field(default_factory=list)  # letters or relay messages not made
    results: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {"sent": [], "deferred": [], "failed": [], "unknown": []}
    )
    first_message: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def skipped_line(self) -> str:
        return (
            f"{len(self.already_sent)} already sent, {len(self.unknown)} unknown, "
            f"{len(self.changed)} changed since sent, {len(self.no_email)} without email"
        )

    def headline(self) -> str:
        """The run in one line, as the terminal shows it."""
        if self.dry_run:
            server = self.server or "no server set (give --smtp, or smtp.url in campaign.toml)"
            return (
                f"Dry run: nothing was sent. {len(self.planned)} message(s) would go via "
                f"{server}; {self.skipped_line()}. Send them with --no-dry-run."
            )
        sent, deferred, failed = (len(self.results[k]) for k in ("sent", "deferred", "failed"))
        rate = sent / self.seconds if self.seconds else 0.0
        if self.test_to:
            return (
                f"Sent {sent} test copy(ies) to {self.test_to} via {self.server}; {deferred} "
                f"deferred, {failed} failed. No real recipient was sent anything, and the "
                f"journal of real sends is unchanged (test copies: {TEST_JOURNAL})."
            )
        return (
            f"Sent {sent} message(s) via {self.server} in {self.seconds:.1f} s ({rate:.1f}/s); "
            f"{deferred} deferred, {failed} failed; {self.skipped_line()}."
        )

    def as_json(self) -> dict[str, object]:
        return {
            "out": self.out,
            "dry_run": self.dry_run,
            "server": self.server,
            "test_to": self.test_to,
            "planned": [item.as_json() for item in self.planned],
            "already_sent": self.already_sent,
            "unknown": [entry.key for entry in self.unknown],
            "changed": self.changed,
            "no_email": self.no_email,
            "held_back": self.held_back,
            "not_made": [failure.as_json() for failure in self.not_made],
            **{state: items for state, items in self.results.items()},
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }

    def failure(self) -> AdvocacyError | None:
        """The error to exit with: messages not sent (1), or letters not made (1, or 2
        when each is bad input)."""
        failed, deferred = self.results["failed"], self.results["deferred"]
        unknown = self.results["unknown"]
        if failed or deferred:
            first = (failed or deferred)[0]
            return SendFailed(
                f"{len(failed) + len(deferred)} of {len(self.planned)} message(s) not sent "
                f"({len(failed)} failed, {len(deferred)} deferred; first: {first['key']}: "
                f"{first['reply']}); 'advocacy status' lists them with the server's replies, "
                "and running the same command again retries them"
            )
        if unknown:
            return SendFailed(
                f"{len(unknown)} of {len(self.planned)} message(s) in an unknown state (first: "
                f"{unknown[0]['key']}): the connection ended after the end of the message, "
                "before the server's reply, so it may have arrived; 'advocacy status' names "
                "its Message-ID to look for in the server's log; it is not sent again unless "
                "you give --retry-unknown"
            )
        return failure_error(self.not_made, f"{len(self.not_made)} letter(s) could not be made")
