"""When a rejection is not about one message but about all of them.

A server that refuses the sender, or a policy that refuses everything from this
login, answers every message the same way; going on would only earn the client a
ban ("too many errors") and fill the journal with failures. The batch stops, with
one line saying what to fix, when:

- the server answers 5xx to MAIL FROM (the sender itself is refused), or
- the first `FIRST` messages of the run all get the same 5xx reply (Postfix, for
  one, refuses a sender at RCPT TO: `smtpd_delay_reject`).

A 5xx naming one recipient ("550 <a@b>: no such user") differs from message to
message, and does not stop the batch.

It stops, too, when `LOST_IN_A_ROW` messages in a row were taken without a reply
(the connection ended or the reply did not come within --timeout after their
final "."): each is unknown, and a server that does that to every message would
make every one of them unknown, one timeout at a time.
"""

from __future__ import annotations

import threading

from .smtp import Reply

FIRST = 3
LOST_IN_A_ROW = 2


class Verdict:
    """Fed every message's final reply; `judge` says why the batch must stop, or ""."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.first: list[Reply | None] = []  # None: the message went
        self.lost = 0  # messages in a row left unknown
        self.lock = threading.Lock()

    def unknown(self, lost: bool) -> str:
        """Fed whether each message that went to the server was left unknown."""
        with self.lock:
            self.lost = self.lost + 1 if lost else 0
            if self.lost < LOST_IN_A_ROW:
                return ""
        return (
            f"{LOST_IN_A_ROW} messages in a row were taken by the server without a reply "
            "(each is unknown: it may have arrived); sending stopped: check the server, "
            "then run the same command again (unknown messages are not sent again)"
        )

    def judge(self, reply: Reply | None) -> str:
        """`reply` is a message's final 5xx reply, or None when it was not refused."""
        if reply is not None and reply.stage == "mail":
            return (
                f"the server refuses the sender <{self.sender}> at MAIL FROM ({reply}); "
                "sending stopped: set the sender to an address this login may send from "
                "([sender] email in campaign.toml, or --from), then run the same command again"
            )
        with self.lock:
            if len(self.first) >= FIRST:
                return ""
            self.first.append(reply)
            if len(self.first) < FIRST:
                return ""
            replies = {(r.code, r.text) for r in self.first if r is not None}
            if len(replies) != 1 or None in self.first:
                return ""
        return (
            f"the server refused the first {FIRST} messages with the same reply ({reply}); "
            "sending stopped, as it refuses them all: fix what it names (often the sender "
            "address, or what this login may send), then run the same command again"
        )
