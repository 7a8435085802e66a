"""The messages a send run may send, read from the output folder.

One per email letter (its .eml, from the manifest's records), or with `--via` one
per relay group (written by relay.py). Each is checked before it is planned: its
To header, read back by a strict parser, must name its envelope recipient; one
that does not is a `Failure`, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..errors import AdvocacyError, MailError
from ..formats.headercheck import addressed_to
from ..formats.headers import header_block, read_head, shown_headers
from ..formats.mime import check_address, reply_to, same_address, sender_address
from ..render.batch import Reporter
from ..render.records import LetterRecord
from ..render.results import Failure
from .relay import Group


@dataclass
class Outgoing:
    """One message to send: a letter, or a relay message to a group."""

    key: str
    kind: str  # letter | relay
    recipient: str
    language: str
    path: Path
    relative: str
    to: str  # the To header
    sender: str  # envelope sender (MAIL FROM)
    rcpt: str  # envelope recipient (RCPT TO)
    size: int
    sha256: str
    message_id: str
    attachments: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # attachments with pages or size

    def as_json(self) -> dict[str, str | int | list[str]]:
        return {
            "key": self.key,
            "kind": self.kind,
            "recipient": self.recipient,
            "language": self.language,
            "to": self.to,
            "file": self.relative,
            "bytes": self.size,
            "message_id": self.message_id,
            "attachments": self.attachments,
        }


@dataclass
class Found:
    """The messages found, those that cannot go, and what to warn about."""

    messages: list[Outgoing] = field(default_factory=list)
    not_made: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def refuse(self, key: str, problem: str, reporter: Reporter) -> None:
        self.not_made.append(Failure(key, problem, bad_input=False))
        reporter.fail(key, f"{key}: {problem}")


def envelope_problem(rcpt: str, data: bytes) -> str:
    """Why `data` must not go to `rcpt`, or "": its To header, read back by a strict
    parser, must name exactly the envelope recipient (which comes from the recipient
    entry, never from parsing our own header)."""
    try:
        to = addressed_to(header_block(data))
    except MailError as exc:
        return f"not sent: {exc}; render it again with --force"
    if not same_address(to, rcpt):
        return (
            f"not sent: the message's To header names <{to}>, but its envelope recipient "
            f"is <{rcpt}>; render it again with --force"
        )
    return ""


def letters(
    out: Path,
    records: Mapping[str, LetterRecord],
    recipients: Sequence[Recipient],
    attach: bool,
    sender: str,
    reporter: Reporter,
    *,
    checked: bool = True,
) -> Found:
    """The email letters of `recipients` (each has an address and an .eml record).
    `checked`: each message's headers are checked against its envelope now, so that a
    dry run's plan shows what would be refused; a real send leaves it to the same
    check just before each message goes, on the bytes that go (once, not twice)."""
    found = Found()
    for recipient in recipients:
        rid = recipient.id
        letter = records[rid]
        eml = letter.file(".eml")
        assert eml is not None  # only letters with an .eml come here
        path = out / eml.path
        head = read_head(path)  # once: thousands of files
        headers = shown_headers(head)
        rcpt = check_address(recipient.email, f"recipient {rid!r}: field 'email'")
        problem = envelope_problem(rcpt, head) if checked else ""
        if problem:
            found.refuse(rid, problem, reporter)
            continue
        pdf = letter.file(".pdf")
        found.messages.append(
            Outgoing(
                key=rid,
                kind="letter",
                recipient=rid,
                language=letter.language,
                path=path,
                relative=eml.path,
                to=headers["To"],
                sender=sender,
                rcpt=rcpt,
                size=eml.size,
                sha256=eml.sha256,
                message_id=headers["Message-ID"],
                attachments=[pdf.path] if attach and pdf is not None else [],
            )
        )
    return found


def relayed(
    campaign: Campaign,
    groups: Sequence[Group],
    recipients: Sequence[Recipient],
    records: Mapping[str, LetterRecord],
    out: Path,
    mail_from: str,
    reporter: Reporter,
) -> Found:
    """One message per group with the PDF letters of its recipients, written into
    `<out>/relay/`; a group whose message cannot be made is a failure of its own."""
    from ..render.manifest import sha256_file
    from .relay import RelayWriter

    sender = sender_address(campaign, mail_from)
    writer = RelayWriter(campaign, sender, reply_to(campaign))
    pdfs = {
        rid: out / pdf.path
        for rid, letter in records.items()
        if (pdf := letter.file(".pdf")) is not None
    }
    found = Found()
    for group in groups:
        try:
            message = writer.write(group, recipients, pdfs, out)
        except AdvocacyError as exc:
            found.not_made.append(Failure.of(group.key, exc))
            reporter.fail(group.key, str(exc))
            continue
        head = read_head(message.path)
        headers = shown_headers(head)
        rcpt = check_address(group.email, f"{group.source}: column 'email'")
        problem = envelope_problem(rcpt, head)
        if problem:
            found.refuse(group.key, problem, reporter)
            continue
        found.messages.append(
            Outgoing(
                key=group.key,
                kind="relay",
                recipient=group.name or group.email,
                language=message.language,
                path=message.path,
                relative=message.path.relative_to(out).as_posix(),
                to=headers["To"],
                sender=sender.addr_spec,
                rcpt=rcpt,
                size=message.path.stat().st_size,
                sha256=sha256_file(message.path),
                message_id=headers["Message-ID"],
                attachments=message.attachments,  # the print set's files, if attached
                shown=message.shown,
            )
        )
    for warning in writer.warnings:
        found.warnings.append(warning)
        reporter.warn(warning)
    return found


def preview(path: Path) -> str:
    """The first message as a person reads it: headers, attachments and the text."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    lines = [
        f"{name}: {msg[name]}"
        for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Content-Language")
        if msg[name]
    ]
    attachments = [part.get_filename() or "?" for part in msg.iter_attachments()]
    lines.append(f"Attachments: {', '.join(attachments) or 'none'}")
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return "\n".join(lines) + "\n\n" + str(text).rstrip() + "\n"
