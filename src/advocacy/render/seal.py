"""Which letters this machine's advocacy rendered itself.

An output folder is not an input: a campaign folder received from elsewhere may
carry a `letters/` folder with an edited .eml and a manifest that vouches for it
(its digests are public arithmetic). Each manifest entry therefore carries a seal,
an HMAC over what the entry says (recipient, language, input digest, every file's
path, sha256 and settings) under a key that never leaves this user's account.
Only a sealed entry whose files are intact is reused by `render` or sent by `send`;
anything else is rendered again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path

from ..errors import OutputError
from .records import LetterRecord

KEY_FILE = "manifest.key"


def key_path() -> Path:
    return _key_path(os.environ.get("XDG_STATE_HOME"), os.environ.get("HOME"))


@lru_cache(maxsize=4)
def _key_path(state: str | None, home: str | None) -> Path:  # read for every letter
    return Path(state or Path.home() / ".local" / "state") / "advocacy" / KEY_FILE


@lru_cache(maxsize=4)
def _key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    # Written whole to a file of its own, then linked into place: two workers making
    # the key at once must never read it half-written (an empty key seals differently).
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()  # another process made it just now, whole
        return key
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot create the key that marks letters rendered here: {exc.strerror}; "
            "set XDG_STATE_HOME to a writable folder"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _body(letter: LetterRecord) -> bytes:
    said = {
        "recipient": letter.recipient,
        "language": letter.language,
        "input_hash": letter.input_hash,
        "files": [[f.path, f.sha256, f.size, f.settings] for f in letter.files],
    }
    return json.dumps(said, sort_keys=True, ensure_ascii=False).encode()


def seal_of(letter: LetterRecord) -> str:
    return hmac.new(_key(key_path()), _body(letter), hashlib.sha256).hexdigest()


def sealed(letter: LetterRecord) -> bool:
    """The entry was written by advocacy under this user's key, unchanged since."""
    return bool(letter.seal) and hmac.compare_digest(letter.seal, seal_of(letter))
