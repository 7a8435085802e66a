"""What making one letter comes back as, and the error a command exits with when some
could not be made.

A worker returns `Rendered` or `Failed`; both render and send keep a list of
`Failure`s, and `failure_error` is the one rule for turning that list into the
command's error: the first five ids, the first error, and exit 2 when every
failure is bad input (the user can fix it), else 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import AdvocacyError, BadInput, InvalidLetters, RenderFailed
from .records import Json, LetterRecord

SHOWN = 5  # ids named in the error; the rest are "..."


@dataclass(frozen=True)
class Failure:
    """A letter (or relay message) that could not be made, and why."""

    recipient: str  # the recipient id, or relay:<address>
    error: str
    bad_input: bool  # the campaign's files or the options are at fault

    @classmethod
    def of(cls, recipient: str, error: AdvocacyError) -> Failure:
        return cls(recipient, str(error), isinstance(error, BadInput))

    def as_json(self) -> dict[str, Json]:
        return {"recipient": self.recipient, "error": self.error, "bad_input": self.bad_input}


@dataclass(frozen=True)
class Rendered:
    """A letter whose files are written (and logged): its record."""

    letter: LetterRecord
    position: int = -1  # its recipient's place in the list: the summary's order


@dataclass(frozen=True)
class Failed:
    """A letter that was not made; the batch goes on, unless it is `fatal`."""

    failure: Failure
    fatal: bool = False  # the disk is full or read-only: the letters after it would fail too


def failure_error(failures: Sequence[Failure], counted: str) -> RenderFailed | None:
    """The error to exit with when letters could not be made, or None when all were.

    `counted` leads the message ("3 of 10 letter(s) failed"); the class decides the exit
    code: InvalidLetters (2) when every failure is bad input, else RenderFailed (1)."""
    if not failures:
        return None
    ids = ", ".join(f.recipient for f in failures[:SHOWN])
    more = ", ..." if len(failures) > SHOWN else ""
    message = f"{counted} ({ids}{more}); first: {failures[0].error}"
    if all(f.bad_input for f in failures):
        return InvalidLetters(message)
    return RenderFailed(message)
