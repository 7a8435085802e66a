"""The typed records: the manifest's JSON read and written exactly as it was, and the
one rule for the error of letters that could not be made."""

from __future__ import annotations

import json
from pathlib import Path

from advocacy.errors import InvalidLetters, RenderFailed
from advocacy.render import manifest
from advocacy.render.records import FileRecord, LetterRecord
from advocacy.render.results import Failure, failure_error

# An entry as manifest.json has always held it (keys in this order).
ENTRY = {
    "recipient": "de-mfa",
    "country": "DE",
    "language": "de",
    "languages": ["de"],
    "review": {"de": "machine-drafted"},
    "fell_back_from": None,
    "locale": "de_DE",
    "paper": "A4",
    "subject": "Politische Gefangene",
    "template": "letter.html.j2",
    "address_block": True,
    "verified": "2025-03-01",
    "source": "https://example.org/de",
    "input_hash": "ab" * 32,
    "files": [
        {"path": "de-mfa.de.pdf", "sha256": "cd" * 32, "bytes": 22693},
        {"path": "de-mfa.de.eml", "sha256": "ef" * 32, "bytes": 41888},
    ],
    "warnings": [],
}


def test_an_entry_reads_into_a_record_and_writes_back_the_same() -> None:
    letter = LetterRecord.from_json(ENTRY)
    assert letter.key == ("de-mfa", "de")
    assert letter.file(".eml") == FileRecord("de-mfa.de.eml", "ef" * 32, 41888)
    assert letter.file(".html") is None
    assert json.dumps(letter.to_json()) == json.dumps(ENTRY)
    assert LetterRecord.from_json(json.loads(json.dumps(letter.to_json()))) == letter


def test_damaged_or_foreign_entries_are_left_out(tmp_path: Path) -> None:
    damaged = {**ENTRY, "recipient": "us-dos", "files": [{"path": "us-dos.en.pdf"}]}
    data = {"tool": "advocacy", "campaign": "C", "letters": [ENTRY, damaged, "x", {"a": 1}]}
    (tmp_path / manifest.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    # A killed run's log: a newer letter for de-mfa, and a line cut short.
    newer = {**ENTRY, "language": "en", "files": [ENTRY["files"][0]]}
    (tmp_path / manifest.LOG).write_text(json.dumps(newer) + '\n{"recip', encoding="utf-8")
    found = manifest.load(tmp_path)
    assert found.found and found.campaign == "C"
    assert [letter.key for letter in found.letters] == [("de-mfa", "en")]
    assert not manifest.load(tmp_path / "nothing").found


def test_one_rule_for_the_error_of_letters_not_made() -> None:
    bad = [Failure(f"r{n}", "field 'email' is not an address", True) for n in range(7)]
    error = failure_error(bad, "7 of 9 letter(s) failed")
    assert isinstance(error, InvalidLetters) and error.exit_code == 2
    assert str(error) == (
        "7 of 9 letter(s) failed (r0, r1, r2, r3, r4, ...); first: field 'email' is not an address"
    )
    mixed = failure_error([*bad, Failure("r9", "disk full", False)], "8 letter(s) failed")
    assert type(mixed) is RenderFailed and mixed.exit_code == 1
    assert failure_error([], "0 letter(s) failed") is None
