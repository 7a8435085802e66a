"""What a render reports while it runs (`Reporter`) and what it gives back
(`RenderSummary`): the library never prints, the command line shows these."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import RenderFailed
from ..spool import Spool
from .records import LetterRecord
from .results import Failure, failure_error

if TYPE_CHECKING:
    from .manifest import Table


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, recipient_id: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def fail(self, recipient_id: str, message: str) -> None: ...


class SilentReporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.failures: list[str] = []

    def start(self, total: int) -> None:
        pass

    def advance(self, recipient_id: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, recipient_id: str, message: str) -> None:
        self.failures.append(message)


@dataclass
class RenderSummary:
    campaign: str
    campaign_dir: str
    out: str
    # On disk (a Spool), not in memory: a batch may have 100,000 letters.
    letters: Spool[LetterRecord] = field(default_factory=Spool)
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    untranslated: list[str] = field(default_factory=list)  # letters a catalog gap touched
    # Every letter the folder holds after the run, as manifest.json now lists it: for
    # `send`, which would otherwise read that file again straight after it is written.
    folder: Table | None = field(default=None, repr=False, compare=False)

    def folder_letters(self) -> Iterator[LetterRecord]:
        """The folder's letters as manifest.json lists them (check each one with
        manifest.trusted before using its files)."""
        return self.folder.values() if self.folder is not None else iter(())

    def as_json(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "campaign_dir": self.campaign_dir,
            "out": self.out,
            "rendered": len(self.letters),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "files": sum(len(letter.files) for letter in self.letters),
            "seconds": round(self.seconds, 3),
            "jobs": self.jobs,
            "warnings": self.warnings,
            "failures": [failure.as_json() for failure in self.failed],
            "letters": [letter.to_json() for letter in self.letters],
        }

    def headline(self) -> str:
        """The run in one line, as the terminal shows it."""
        files = sum(len(letter.files) for letter in self.letters)
        per = self.seconds / len(self.letters) if self.letters else 0.0
        return (
            f"Rendered {len(self.letters)} letter(s), {files} file(s) into {self.out}/ "
            f"in {self.seconds:.1f} s ({per:.2f} s per letter, {self.jobs} process(es)); "
            f"{len(self.skipped)} unchanged, {len(self.failed)} failed; "
            f"{len(self.warnings)} warning(s)."
        )

    def failure(self) -> RenderFailed | None:
        """The error to exit with when letters failed: bad input (2) or the world (1)."""
        total = len(self.failed) + len(self.letters)
        return failure_error(self.failed, f"{len(self.failed)} of {total} letter(s) failed")
