"""One exception tree for everything a user can cause or meet.

`cli.py` maps these to one line and an exit code in a single place; nothing
below it prints or exits. The class decides the exit code, never the instance.

    AdvocacyError                 exit 1: the outside world failed
    ├── BadInput                  exit 2: the user's files or options are wrong
    │   ├── CampaignError         campaign.toml missing, malformed or invalid
    │   ├── RecipientError        a recipient list or entry is invalid
    │   ├── RegisterError         a register file or its mapping is malformed
    │   ├── SelectorError         a --to selector matched nothing
    │   ├── TemplateError         a template failed to compile or render
    │   │   └── LimitExceeded     one letter passed a bound (output, loops, CPU, memory)
    │   ├── ResourceBlocked       a file or URL outside the campaign was asked for
    │   ├── CatalogError          a translation breaks its placeholders or markup
    │   ├── MailError             an invalid address, a line break in a header
    │   ├── SendRefused           a real send that could go out by accident
    │   ├── LayoutError           a letter's text does not fit its box on paper
    │   ├── DeliveryLogError      a `log` entry or a row of a delivery CSV is wrong
    │   └── InvalidLetters        letters failed, all for bad input (also RenderFailed)
    ├── OutputError               the output folder cannot be written
    ├── SystemDependencyError     a library WeasyPrint needs is missing
    ├── UnsafeRuntime             the Python running advocacy lacks a security fix
    ├── CheckFailed               `recipients check` found what blocks rendering
    ├── RenderFailed              letters failed (the others were written)
    ├── SmtpError                 the mail server cannot be reached or refused us
    ├── SendFailed                messages not sent; the journal holds the replies
    ├── SendCancelled             the send was not confirmed at the prompt
    ├── ServerError               the preview server cannot start
    ├── MailboxError              the IMAP server cannot be reached or refused us
    └── SendInterrupted           exit 130: Ctrl-C, the message in flight finished

Signals inside sending, caught there and never shown to a user:

    Exception
    ├── Dropped                   the SMTP connection ended before the server answered
    │   └── LostAfterData         ... after the final "." of a message: it may have arrived
    ├── Transient                 connecting failed in a way that may pass
    │   └── Unresponsive          the server accepted the connection, then did not answer
    └── PoolShrunk                a session left the pool: the server refused one more

    smtplib.SMTPServerDisconnected  (raised by send/wire.py, the connection closed)
    ├── Stalled                   a reply did not arrive in full within the timeout
    └── Oversized                 a reply passed 64 KB
"""

from __future__ import annotations

import smtplib

EXIT_OK = 0
EXIT_FAILURE = 1  # the outside world failed (SMTP down, disk full, a letter failed)
EXIT_BAD_INPUT = 2  # the user's files or options are wrong
EXIT_INTERRUPTED = 130


class AdvocacyError(Exception):
    """Base of every error shown to the user as a single line."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class BadInput(AdvocacyError):
    """Something in the campaign folder or on the command line is wrong."""

    exit_code = EXIT_BAD_INPUT


class CampaignError(BadInput):
    """campaign.toml is missing, malformed or invalid."""


class RecipientError(BadInput):
    """A recipient list is malformed or an entry is invalid."""


class RegisterError(BadInput):
    """A register file (legislators-current.yaml, a CSV with its mapping) cannot be
    read as the source it was given as, or an entry lacks what a recipient needs."""


class SelectorError(BadInput):
    """A --to selector matched nothing."""


class TemplateError(BadInput):
    """A template failed to compile or render."""


class LimitExceeded(TemplateError):
    """Making one letter passed a bound (output size, loop steps, CPU time, memory);
    that letter fails, the batch goes on."""


class LayoutError(BadInput):
    """A letter's text does not fit a box of fixed size on paper, or lies on a fold."""


class ResourceBlocked(BadInput):
    """A template or stylesheet asked for a file or URL outside the campaign."""


class OutputError(AdvocacyError):
    """The output folder cannot be written."""


class SystemDependencyError(AdvocacyError):
    """A system library (Pango, HarfBuzz) that WeasyPrint needs is missing."""


class UnsafeRuntime(AdvocacyError):
    """The Python running advocacy lacks a security fix (runtime.py names which)."""


class CheckFailed(AdvocacyError):
    """`recipients check` found something that blocks rendering (exit 1 by design)."""


class RenderFailed(AdvocacyError):
    """One or more letters could not be rendered (the others were written)."""


class CatalogError(BadInput):
    """A translation breaks its source string (placeholder or markup)."""


class InvalidLetters(BadInput, RenderFailed):
    """Letters could not be made, every one because of the campaign or the options."""


class MailError(BadInput):
    """A letter cannot become an email: an invalid address or a line break in a header."""


class SmtpError(AdvocacyError):
    """The mail server cannot be reached, or refused the TLS handshake or the login."""


class SendFailed(AdvocacyError):
    """Some messages were not sent (failed or deferred); the journal holds the replies."""


class SendRefused(BadInput):
    """A real send refused before anything went out: the sender is still the example
    placeholder, or a first send to many recipients cannot be confirmed (no terminal)."""


class SendCancelled(AdvocacyError):
    """The person at the terminal did not confirm the send; nothing went out."""


class DeliveryLogError(BadInput):
    """A `log` entry or a row of a delivery CSV is wrong (nothing of it was recorded)."""


class MailboxError(AdvocacyError):
    """The IMAP server cannot be reached, or refused the login or the folder."""


class ServerError(AdvocacyError):
    """The preview server cannot start (port in use, address not available)."""


class SendInterrupted(AdvocacyError):
    """Ctrl-C during `send`: the message in flight was finished and journaled."""

    exit_code = EXIT_INTERRUPTED


class Dropped(Exception):
    """The connection ended before the server answered."""


class LostAfterData(Dropped):
    """The connection ended after the final "." of a message, before the server's reply:
    the server may have queued it, so it is unknown and never sent again by itself."""


class Transient(Exception):
    """Connecting failed in a way that may pass (refused, timed out, 4xx greeting)."""


class Unresponsive(Transient):
    """The server accepted the connection but did not finish a reply in time: on the
    first connection of a run this ends the run, without retries."""


class PoolShrunk(Exception):
    """A sending session left the pool: the server refused another connection."""


class Stalled(smtplib.SMTPServerDisconnected):
    """The SMTP server did not finish its reply in time."""


class Oversized(smtplib.SMTPServerDisconnected):
    """The SMTP server's reply passed the size bound."""
