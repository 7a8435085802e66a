"""`advocacy init`: copy the bundled campaign into a folder for editing, with the
group's own sender and signer written into its campaign.toml."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, fields
from pathlib import Path

from pydantic import ValidationError

from ..errors import BadInput, OutputError
from ..fsutil import write_atomic
from ..paths import CAMPAIGN_FILE, bundled_campaign_dir
from .model import Sender

PARTS = (CAMPAIGN_FILE, "templates", "recipients", "locales")


@dataclass(frozen=True)
class SenderDetails:
    """Who writes the letters: the [sender] and [signature] of the new campaign."""

    organisation: str
    email: str
    signer: str
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    role: str = ""

    REQUIRED = ("organisation", "email", "signer", "city")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def check(self) -> None:
        """One line naming the option to give, before anything is copied."""
        for name in self.REQUIRED:
            if not getattr(self, name).strip():
                option = "--" + name.replace("_", "-")
                raise BadInput(
                    f"advocacy init: {option} is empty; give your {name.replace('_', ' ')}"
                )
        for name in self.names():
            if any(ch in getattr(self, name) for ch in "\r\n"):
                raise BadInput(f"advocacy init: --{name.replace('_', '-')} must be one line")
        try:
            Sender(organisation=self.organisation, email=self.email, country=self.country)
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise BadInput(f"advocacy init: --{problem['loc'][0]}: {problem['msg']}") from None
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(self.email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise BadInput(f"advocacy init: --email {self.email!r} is not valid: {exc}") from None


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _set_table(lines: list[str], table: str, values: dict[str, str | bool]) -> None:
    """Set `values` in `[table]` of campaign.toml's lines, keeping its comments."""
    start = lines.index(f"[{table}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    left = dict(values)
    for i in range(start + 1, end):
        key = lines[i].split("=", 1)[0].strip()
        if "=" in lines[i] and not lines[i].lstrip().startswith("#") and key in left:
            value = left.pop(key)
            shown = ("true" if value else "false") if isinstance(value, bool) else _string(value)
            lines[i] = f"{key} = {shown}"
    insert = [f"{key} = {_string(str(v))}" for key, v in left.items()]
    lines[start + 1 : start + 1] = insert


def write_sender(path: Path, details: SenderDetails) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    _set_table(
        lines,
        "sender",
        {
            "organisation": details.organisation,
            "street_address": details.street_address,
            "postal_code": details.postal_code,
            "city": details.city,
            "country": details.country.upper(),
            "email": details.email,
            "placeholder": False,
        },
    )
    _set_table(
        lines,
        "signature",
        {"name": details.signer, "role": details.role, "organisation": details.organisation},
    )
    if "[render]" in lines:
        # The example marks letters without an address so that it renders out of the
        # box; a group's own campaign fails them, so none looks ready to post.
        _set_table(lines, "render", {"no_address": "fail"})
    write_atomic(path, "\n".join(lines).encode("utf-8"))


def init_campaign(
    target: Path, *, force: bool = False, sender: SenderDetails | None = None
) -> list[Path]:
    """Copy the bundled campaign into `target`; refuse a non-empty folder unless forced.
    With `sender`, its campaign.toml carries that sender (no longer a placeholder)."""
    if sender is not None:
        sender.check()
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file, not a folder; choose another folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BadInput(
            f"{target}: is not empty; choose a new folder, or use --force to copy the "
            "campaign into it (files with the same names are replaced)"
        )
    source = bundled_campaign_dir()
    written = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            origin = source / part
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target / part,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.mo", "__pycache__"),
                )
            elif origin.is_file():
                shutil.copy2(origin, target / part)
            else:
                continue
            written.append(target / part)
        if sender is not None:
            write_sender(target / CAMPAIGN_FILE, sender)
    except OSError as exc:
        raise OutputError(f"{target}: cannot copy the campaign: {exc.strerror}") from None
    return written
