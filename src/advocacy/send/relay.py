"""Relay: letters handed to diaspora groups, who print and deliver them.

`send --via groups.csv` (columns `match`, `name`, `email`, `language`; `match`
is a recipient id, a country code or `tag:NAME`, several separated by spaces)
sends each group one message in its language: a cover note made from the
campaign's `templates/relay.txt.j2`, with the PDF letters of the recipients it
matches attached. The messages are written to `<out>/relay/` and sent from there.
When `advocacy print --by group` made the group's part of the print set in the same
folder, that is attached instead (printset/attach.py): its combined PDF, checklist,
and envelopes or labels, and the note ends with how to print and report back;
`write(single_letters=True)` keeps the single letters.
"""

from __future__ import annotations

import csv
import hashlib
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import jinja2

from ..campaign import syntax
from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from ..campaign.selection import select
from ..csvfile import dict_reader
from ..errors import AdvocacyError, BadInput, SelectorError, TemplateError
from ..formats.headercheck import header_problem
from ..formats.mime import Attachment, Draft, build, mailbox_address
from ..fsutil import write_atomic
from ..i18n import catalogs, l10n
from ..letter import limits, wording
from ..letter.sandbox import ContainedLoader, LetterEnvironment, sandbox

TEMPLATE = "relay.txt.j2"
FOLDER = "relay"
COLUMNS = ("match", "name", "email", "language")
_MIMETYPES = {".csv": "text/csv"}


@dataclass
class Group:
    name: str
    email: str
    language: str
    selectors: list[str]
    line: int
    source: str

    @property
    def address(self) -> str:
        """The exact address: the domain is case-blind, the local part is not (RFC 5321),
        so `Anna@` and `anna@` are two groups, each sent only its own message."""
        local, _, domain = self.email.strip().rpartition("@")
        return f"{local}@{domain.lower()}" if local else self.email.strip()

    @property
    def key(self) -> str:
        return f"relay:{self.address}"

    @property
    def stem(self) -> str:
        """The group's file name: readable, and made collision-free by a digest of the
        exact address (`a+b@` and `a-b@` read alike once a file name holds them)."""
        readable = re.sub(r"[^a-z0-9._-]+", "-", self.address.lower()).strip("-.")[:60]
        digest = hashlib.sha256(self.address.encode("utf-8")).hexdigest()[:12]
        return f"{readable}-{digest}"


@dataclass
class RelayMessage:
    group: Group
    path: Path  # the .eml file
    language: str
    letters: list[str]  # recipient ids whose PDFs are attached
    attachments: list[str] = field(default_factory=list)  # the files' names, as sent
    shown: list[str] = field(default_factory=list)  # each with its pages or size


def _read_rows(path: Path) -> tuple[list[dict[str, str]], list[int]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"--via {path}: no such file") from None
    except UnicodeDecodeError:
        raise BadInput(f"--via {path}: is not UTF-8 text; save it as 'CSV UTF-8'") from None
    reader = dict_reader(text)
    names = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BadInput(
            f"{path}: the first row must name the columns {', '.join(COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    rows, lines = [], []
    try:
        for row in reader:
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if any(clean.get(column) for column in COLUMNS):
                rows.append(clean)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise BadInput(f"{path}: line {reader.line_num}: malformed CSV: {exc}") from None
    return rows, lines


def load_groups(path: Path, recipients: Sequence[Recipient]) -> list[Group]:
    """The groups of a relay list, merged by address; a selector that matches no
    recipient, or an unknown language, is bad input (file and line named)."""
    rows, lines = _read_rows(path)
    groups: dict[str, Group] = {}
    for row, line in zip(rows, lines, strict=True):
        where = f"{path}: line {line}"
        for column in ("match", "email", "language"):
            if not row.get(column):
                raise BadInput(f"{where}: column '{column}' is empty")
        selectors = [s for s in re.split(r"[\s,;]+", row["match"]) if s]
        for selector in selectors:
            try:
                select(recipients, [selector])
            except SelectorError as exc:
                raise BadInput(f"{where}: column 'match': {exc}") from None
        try:
            l10n.parse_language_tag(row["language"])
        except ValueError:
            raise BadInput(
                f"{where}: column 'language' {row['language']!r} is not a language code; "
                "use one such as de or pl"
            ) from None
        for column in ("name", "email"):  # both go into the To header of its mail
            problem = header_problem(row.get(column, ""))
            if problem:
                raise BadInput(f"{where}: column '{column}' {problem}")
        group = Group(row.get("name", ""), row["email"], row["language"], selectors, line, where)
        known = groups.get(group.key)
        if known is None:
            groups[group.key] = group
        elif l10n.language_of(known.language) != l10n.language_of(group.language):
            raise BadInput(
                f"{where}: {group.email} already appears on line {known.line} with language "
                f"{known.language!r}; give each group one language"
            )
        else:
            known.selectors += [s for s in selectors if s not in known.selectors]
    if not groups:
        raise BadInput(f"{path}: lists no group; add rows with {', '.join(COLUMNS)}")
    return list(groups.values())


def _environment(campaign: Campaign) -> LetterEnvironment:
    """The letters' sandbox, with its limits, for plain text."""
    env = sandbox(ContainedLoader(str(campaign.templates_dir), campaign.root), html=False)
    # Before any template is compiled: new-style gettext changes the compiled code.
    gettext, ngettext = catalogs.gettext_callables(None)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def _template_ids(campaign: Campaign) -> set[str]:
    from ..campaign.translations import extract_catalog

    shown = f"templates/{TEMPLATE}"
    return {
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in extract_catalog(campaign)
        if m.id and any(loc == shown for loc, _ in m.locations)
    }


def _wrap(text: str, width: int = 76) -> str:
    """Long lines of the note filled like the letters' text parts (items hang)."""
    lines = []
    for line in text.strip().splitlines():
        indent = "  " if line.startswith("- ") else ""
        lines.append(textwrap.fill(line, width, subsequent_indent=indent) if line else "")
    return "\n".join(lines) + "\n"


class RelayWriter:
    """Writes one relay message per group into `<out>/relay/`."""

    def __init__(self, campaign: Campaign, sender: Address, reply_to: str) -> None:
        self.campaign, self.sender, self.reply_to = campaign, sender, reply_to
        self.env = _environment(campaign)
        try:
            self.template = self.env.get_template(TEMPLATE)
        except jinja2.TemplateNotFound:
            raise BadInput(
                f"templates/{TEMPLATE}: not found; --via needs this cover note (copy it from "
                "a campaign made by 'advocacy init')"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                syntax.describe(exc, f"templates/{TEMPLATE}", self.env.filters)
            ) from None
        fallback = l10n.language_of(campaign.config.campaign.fallback_language)
        self.fallback = fallback
        self.catalogs = catalogs.load_all(campaign.root, _template_ids(campaign))
        self.warnings: list[str] = []
        self.written: dict[Path, Group] = {}  # no two groups ever share a file

    def _language(self, wanted: str) -> tuple[str, catalogs.CatalogInfo | None]:
        language = l10n.language_of(wanted)
        info = self.catalogs.get(language)
        if language == self.fallback:
            return language, None
        if info is not None and info.complete:
            return language, info
        message = wording.cover_note_fell_back(TEMPLATE, language, self.fallback)
        if message not in self.warnings:
            self.warnings.append(message)
        return self.fallback, None

    def _context(
        self,
        group: Group,
        language: str,
        letters: list[tuple[Recipient, str]],
        combined: str = "",  # the print set's PDF that holds the letters, when attached
    ) -> dict[str, Any]:
        cfg = self.campaign.config
        locale = l10n.parse_language_tag(language)
        return {
            "group": {"name": group.name, "email": group.email, "language": language},
            "letters": [
                {
                    "recipient": r.id,
                    "organisation": r.text(r.organisation, [language]),
                    "country": r.country,
                    "country_name": l10n.country_name(r.country, locale),
                    "language": file.split(".")[-2],
                    "file": combined or file,
                }
                for r, file in letters
            ],
            "campaign": cfg.campaign.model_dump(),
            "resolution": cfg.resolution.model_dump() if cfg.resolution else {},
            "sender": cfg.sender.model_dump(),
            "signature": cfg.signature.model_dump() if cfg.signature else None,
        }

    def write(
        self,
        group: Group,
        recipients: Sequence[Recipient],
        pdfs: Mapping[str, Path],
        out: Path,
        *,
        single_letters: bool = False,
    ) -> RelayMessage:
        """The group's message, written to disk; an AdvocacyError stops only this group."""
        from ..printset.attach import described, group_kit

        matched = [r for r in select(recipients, group.selectors) if r.id in pdfs]
        if not matched:
            raise BadInput(f"{group.source}: none of its recipients has a PDF letter to relay")
        language, info = self._language(group.language)
        gettext, ngettext = catalogs.gettext_callables(info)
        self.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
        letters = [(r, pdfs[r.id].name) for r in matched]
        kit = None if single_letters else group_kit(out, group.key)
        combined = kit.files[0].name if kit else ""
        try:  # with the letters' bounds: loop steps, CPU time, memory, output
            with limits.letter(f"templates/{TEMPLATE}"):
                module = self.template.make_module(
                    self._context(group, language, letters, combined)
                )
                note, subject = str(module), str(getattr(module, "subject", ""))
                if len(note) + len(subject) > limits.MAX_OUTPUT:
                    raise limits.LimitReached(limits.output_message("the note"))
        except Exception as exc:  # any failure of a stranger's template is one line
            why = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, MemoryError | limits.LimitReached):
                why = str(exc) or limits.memory_message("the note")
            raise TemplateError(f"templates/{TEMPLATE}: {why} (group {group.email})") from None
        subject = " ".join(subject.split())
        text = _wrap(note)
        files = list(kit.files) if kit else [pdfs[r.id] for r in matched]
        if kit:
            reply = self.reply_to or self.sender.addr_spec
            text += kit.note(reply)
        draft = Draft(
            key=group.key,
            campaign=self.campaign.config.campaign.title,
            languages=[language],
            sender=self.sender,
            to=mailbox_address(group.name, group.email, f"{group.source}: column 'email'"),
            subject=subject or self.campaign.config.campaign.title,
            text=text,
            reply_to=self.reply_to,
            attachments=[
                Attachment(
                    path.name, path.read_bytes(), _MIMETYPES.get(path.suffix, "application/pdf")
                )
                for path in files
            ],
        )
        path = out / FOLDER / f"{group.stem}.{language}.eml"
        other = self.written.setdefault(path, group)
        if other is not group:
            raise BadInput(
                f"{group.source}: its message would be written to {path.name}, the file of "
                f"{other.email} ({other.source}); give the two groups different addresses"
            )
        try:
            write_atomic(path, build(draft))
        except OSError as exc:
            raise AdvocacyError(f"{path}: cannot write: {exc.strerror}") from None
        names = [path.name for path in files]
        shown = [described(path) for path in files]
        return RelayMessage(group, path, language, [r.id for r in matched], names, shown)
