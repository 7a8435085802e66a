"""Typed records of what a render made: one letter and its files.

They are what travels between the render workers, the render run, `send` and the
manifest. `to_json()` and `from_json()` are the manifest's on-disk format (an entry
of `manifest.json` or a line of `manifest.log.jsonl`), which stays as it was: keys,
their order and their values; a record is never handed around as that JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeAlias

Json: TypeAlias = str | int | float | bool | list["Json"] | dict[str, "Json"] | None


class _Fields:
    """The fields of one JSON object, each of the type it must have; else ValueError."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{what}: not a JSON object")
        self.data: Mapping[str, object] = data
        self.what = what

    def _wrong(self, key: str, kind: str) -> ValueError:
        return ValueError(f"{self.what}: {key!r} is not {kind}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value

    def text_or_none(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else self.text(key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def text_or_flag(self, key: str, default: bool) -> str | bool:
        value = self.data.get(key, default)
        if not isinstance(value, str | bool):
            raise self._wrong(key, "a string, true or false")
        return value

    def count(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "a whole number")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(key, "a list of strings")
        return tuple(str(v) for v in value)

    def text_map(self, key: str) -> dict[str, str]:
        value = self.data.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self._wrong(key, "an object of strings")
        return {str(k): str(v) for k, v in value.items()}

    def items(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return list(value)


@dataclass(frozen=True)
class FileRecord:
    """One file of a letter in the output folder, with the sums it was written with."""

    path: str  # relative to the output folder, with forward slashes
    sha256: str
    size: int  # bytes; "bytes" in the manifest
    # A digest of the settings of this file's format only (the PDF variant; an
    # email's From and attachment): changing them redoes these files, no others.
    settings: str = ""

    @classmethod
    def of(cls, out: Path, path: Path, data: bytes, settings: str = "") -> FileRecord:
        """The record of `data`, just written to `path` inside `out`."""
        import hashlib

        relative = path.relative_to(out).as_posix()
        return cls(relative, hashlib.sha256(data).hexdigest(), len(data), settings)

    @property
    def format(self) -> str:
        """`pdf`, `html` or `eml`."""
        return self.suffix.lstrip(".")

    @property
    def suffix(self) -> str:
        """`.pdf`, `.html` or `.eml`."""
        return PurePosixPath(self.path).suffix

    def to_json(self) -> dict[str, Json]:
        data: dict[str, Json] = {"path": self.path, "sha256": self.sha256, "bytes": self.size}
        if self.settings:  # an older manifest's entry reads back as it was
            data["settings"] = self.settings
        return data

    @classmethod
    def from_json(cls, data: object) -> FileRecord:
        fields = _Fields(data, "file")
        return cls(
            fields.text("path"),
            fields.text("sha256"),
            fields.count("bytes"),
            fields.text("settings", ""),
        )


@dataclass(frozen=True)
class LetterRecord:
    """One rendered letter: whom it is for, what it says, what it was made from, its files."""

    recipient: str
    language: str  # "de", or "de+en" for a bilingual letter
    country: str = ""
    languages: tuple[str, ...] = ()
    # language -> review state (source, reviewed, machine-drafted, draft); not hashed
    review: Mapping[str, str] = field(default_factory=dict, hash=False)
    fell_back_from: str | None = None  # the language the recipient wanted, when not had
    locale: str = ""
    paper: str = ""
    subject: str = ""
    template: str = ""
    address_block: bool = True  # printed with the recipient's address
    verified: str | bool = False  # the day the address was verified (ISO date), or False
    source: str = ""
    input_hash: str = ""  # a digest of everything the letter is made from
    files: tuple[FileRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    seal: str = ""  # render/seal.py: rendered by this user's advocacy, unchanged since

    @property
    def key(self) -> tuple[str, str]:
        """(recipient, language): one letter of a manifest."""
        return self.recipient, self.language

    def file(self, suffix: str) -> FileRecord | None:
        """The letter's file ending in `suffix` (".pdf", ".eml", ".html"), if it has one."""
        return next((f for f in self.files if f.path.endswith(suffix)), None)

    def to_json(self) -> dict[str, Json]:
        """The manifest entry, keys in the order the manifest has always had them."""
        return {
            "recipient": self.recipient,
            "country": self.country,
            "language": self.language,
            "languages": list(self.languages),
            "review": dict(self.review),
            "fell_back_from": self.fell_back_from,
            "locale": self.locale,
            "paper": self.paper,
            "subject": self.subject,
            "template": self.template,
            "address_block": self.address_block,
            "verified": self.verified,
            "source": self.source,
            "input_hash": self.input_hash,
            "files": [f.to_json() for f in self.files],
            "warnings": list(self.warnings),
            **({"seal": self.seal} if self.seal else {}),
        }

    @classmethod
    def from_json(cls, data: object) -> LetterRecord:
        """A manifest entry back as a record; ValueError when it is not one. Fields that
        an entry lacks take their defaults (an empty input hash: the letter is redone)."""
        fields = _Fields(data, "manifest entry")
        return cls(
            recipient=fields.text("recipient"),
            language=fields.text("language"),
            country=fields.text("country", ""),
            languages=fields.texts("languages"),
            review=fields.text_map("review"),
            fell_back_from=fields.text_or_none("fell_back_from"),
            locale=fields.text("locale", ""),
            paper=fields.text("paper", ""),
            subject=fields.text("subject", ""),
            template=fields.text("template", ""),
            address_block=fields.flag("address_block", True),
            verified=fields.text_or_flag("verified", False),
            source=fields.text("source", ""),
            input_hash=fields.text("input_hash", ""),
            files=tuple(FileRecord.from_json(item) for item in fields.items("files")),
            warnings=fields.texts("warnings"),
            seal=fields.text("seal", ""),
        )
