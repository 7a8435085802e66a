"""After a render with email letters: who got none, and the mbox of all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..campaign.recipients import Recipient
from ..formats.mime import MBOX, write_mbox
from ..letter import wording
from .records import LetterRecord


def finish_render(
    out: Path, letters: Iterable[LetterRecord], recipients: Sequence[Recipient], mbox: bool
) -> list[str]:
    """After a render with email letters: name who has no address; write the mbox."""
    warnings = []
    missing = [r.id for r in recipients if not r.email]
    if missing:
        warnings.append(wording.no_email_batch(missing))
    if mbox:
        chosen = {r.id for r in recipients}
        paths = sorted(
            out / item.path
            for letter in letters
            if letter.recipient in chosen
            for item in letter.files
            if item.path.endswith(".eml")
        )
        write_mbox(out / MBOX, [path for path in paths if path.is_file()])
    return warnings
