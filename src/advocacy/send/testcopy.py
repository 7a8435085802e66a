"""`send --test-to ADDRESS`: every selected message, sent to the user instead.

Each test copy is the rendered message with three headers rewritten and nothing
else touched (its text, HTML and PDF are the bytes the real recipient would get):
- To: the test address, which is also the only envelope recipient;
- Subject: prefixed with the real recipient, "[TEST for de-mfa <...>] ...";
- Message-ID: a new one for every copy, so that no copy shares the real letter's
  (which is how the real journal tells a letter apart) and no mail client folds
  two test runs into one message.
The copies are written into `<out>/test/` and journaled in their own file,
`outbox-test.sqlite3`: the real journal, `outbox.sqlite3`, is never opened, so a
test copy can never count as sent and a later real send still sends every letter.
"""

from __future__ import annotations

import dataclasses
import email.utils
from collections.abc import Callable, Sequence
from email import message_from_bytes
from email.headerregistry import Address
from pathlib import Path

from ..formats.mime import POLICY, AddressHeader, check_address, check_header
from ..fsutil import write_atomic
from ..render.manifest import sha256_file
from .dispatch import Job
from .outgoing import Outgoing, envelope_problem

TEST_JOURNAL = "outbox-test.sqlite3"
TEST_DIR = "test"
# Headers that come from a parser are written back as they were folded.
_KEEP = POLICY.clone(refold_source="none")


def test_address(value: str) -> str:
    """The --test-to address in ASCII form, or a MailError naming the option."""
    return check_address(value, "--test-to")


def rewrite(data: bytes, test_to: str, real: str, message_id: str) -> bytes:
    """The message `data` addressed to `test_to`, its subject naming `real`."""
    msg = message_from_bytes(data, policy=_KEEP)
    subject = " ".join(str(msg["Subject"] or "").split())
    msg.replace_header("To", AddressHeader("To", Address(addr_spec=test_to)))
    msg.replace_header("Subject", check_header(f"[TEST for {real}] {subject}", "subject"))
    msg.replace_header("Message-ID", message_id)
    return msg.as_bytes(policy=_KEEP)


def copies(planned: Sequence[Outgoing], out: Path, test_to: str) -> list[Outgoing]:
    """A test copy of each planned message, written into `<out>/test/`."""
    made = []
    for item in planned:
        path = out / TEST_DIR / item.path.name
        domain = item.message_id.strip("<>").rpartition("@")[2] or None
        message_id = email.utils.make_msgid("test", domain)
        real = f"{item.key} <{item.rcpt}>"
        write_atomic(path, rewrite(item.path.read_bytes(), test_to, real, message_id))
        made.append(
            dataclasses.replace(
                item,
                path=path,
                relative=path.relative_to(out).as_posix(),
                to=test_to,
                rcpt=test_to,
                size=path.stat().st_size,
                sha256=sha256_file(path),
                message_id=message_id,
            )
        )
    return made


def verify(test_to: str) -> Callable[[Job, bytes], str]:
    """The envelope check of a test run: every job, and the To header of the bytes
    about to go, must name the test address and nothing else."""

    def check(job: Job, data: bytes) -> str:
        if job.recipient != test_to:
            return f"not sent: a test run may only send to <{test_to}>, not <{job.recipient}>"
        return envelope_problem(test_to, data)

    return check
