"""The campaign as the preview page sees it: loaded once per change (a `Snapshot`),
letters composed on request, the letter's HTML dressed for the browser."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..campaign.model import Campaign, load_campaign
from ..campaign.recipients import Recipient
from ..errors import AdvocacyError
from ..fsutil import is_within
from ..i18n import l10n
from ..letter.compose import POLICIES, Composer, Letter
from .terminal import campaign_warnings, letter_warnings

log = logging.getLogger("advocacy.preview")


# -- the campaign as the page sees it ------------------------------------------


@dataclass
class Snapshot:
    """One load of the campaign; replaced as a whole when a file changes."""

    version: int
    campaign: Campaign | None
    error: str | None
    composers: dict[str, Composer | str] = field(default_factory=dict)  # lang -> it, or error
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)
    listing_locks: dict[str, threading.Lock] = field(default_factory=dict)
    pdf_renderer: Any = None


def _entry(
    composer: Composer, recipient: Recipient, letter: Letter | None, error: str | None
) -> dict[str, Any]:
    english = l10n.parse_language_tag("en")
    languages = letter.languages if letter else composer.choose(recipient)[0]
    language = "+".join(languages)
    return {
        "id": recipient.id,
        "organisation": recipient.text(recipient.organisation, languages),
        "country": recipient.country,
        "country_name": l10n.country_name(recipient.country, english),
        "tags": recipient.tags,
        "language": language,
        "language_name": " + ".join(l10n.language_name(lang) for lang in languages),
        "review": letter.review if letter else {},
        "paper": recipient.paper_size,
        "subject": letter.subject if letter else "",
        "warnings": [w.__dict__ for w in letter_warnings(composer, recipient, letter)]
        if letter
        else [],
        "error": error,
    }


class Workspace:
    """The campaign folder, reloaded on change; composes letters for the server.

    The lock guards only the snapshot and its caches; composing runs outside it
    (a `Composer` changes no shared state), so a page's request for one letter is
    never kept waiting behind the listing of all the others.
    """

    def __init__(self, root: Path, bundled: bool, language: str | None) -> None:
        self.root = root.resolve()
        self.bundled = bundled
        self.language = language or ""
        self.instance = ""  # set by the server; lets a page notice a restart
        self.lock = threading.RLock()
        self.pdf_lock = threading.Lock()
        self._version = 0
        self.snapshot = self._load()

    def _load(self) -> Snapshot:
        self._version += 1
        try:
            campaign = load_campaign(self.root, bundled=self.bundled)
        except Exception as exc:  # shown on the page; the server keeps running
            return Snapshot(self._version, None, _message(exc))
        return Snapshot(self._version, campaign, None)

    def reload(self) -> int:
        with self.lock:
            self.snapshot = self._load()
            log.debug("reloaded %s: version %d", self.root, self.snapshot.version)
            return self.snapshot.version

    def _accepted(self, snap: Snapshot, lang: str) -> str:
        """`lang` if the campaign offers it (a policy, the --lang choice, or a language it
        has letters in), else "" (the campaign's own policy): a client's odd values never
        become cache entries of their own."""
        if lang in ("", self.language, *POLICIES) or snap.campaign is None:
            return lang if snap.campaign is not None else ""
        policy = self._composer(snap, "")
        offered = policy.available_languages() if not isinstance(policy, str) else []
        return lang if lang in offered else ""

    def _composer(self, snap: Snapshot, lang: str) -> Composer | str:
        """The composer for one language choice ("" = the campaign's policy), or an error."""
        if lang not in snap.composers:
            assert snap.campaign is not None
            try:
                snap.composers[lang] = Composer(snap.campaign, language=lang or None)
            except Exception as exc:
                snap.composers[lang] = _message(exc)
        return snap.composers[lang]

    def listing(self, lang: str) -> dict[str, Any]:
        """Every letter for the page's list: language, paper, subject, warnings, error."""
        with self.lock:
            snap = self.snapshot
            lang = self._accepted(snap, lang)
            busy = snap.listing_locks.setdefault(lang, threading.Lock())
        with busy:  # two pages asking at once: the second waits for the first's answer
            return self._listing(snap, lang)

    def _listing(self, snap: Snapshot, lang: str) -> dict[str, Any]:
        with self.lock:
            if lang in snap.listings:
                return snap.listings[lang]
            data: dict[str, Any] = {
                "version": snap.version,
                "instance": self.instance,
                "campaign_dir": str(self.root),
                "bundled": self.bundled,
                "default_language": self.language,
                "language": lang,
                "title": "",
                "error": snap.error,
                "warnings": [],
                "languages": [],
                "letters": [],
            }
            if snap.campaign is None:
                return data
            data["title"] = snap.campaign.config.campaign.title
            data["warnings"] = [w.__dict__ for w in campaign_warnings(snap.campaign)]
            composer = self._composer(snap, lang)
            if isinstance(composer, str):
                data["error"] = composer
                return data
            data["languages"] = [
                {"code": code, "name": l10n.language_name(code)}
                for code in composer.available_languages()
            ]
        for recipient in snap.campaign.recipients:
            data["letters"].append(self._list_entry(composer, recipient))
        with self.lock:
            snap.listings[lang] = data
        return data

    @staticmethod
    def _list_entry(composer: Composer, recipient: Recipient) -> dict[str, Any]:
        try:
            letter = composer.compose(recipient)
        except Exception as exc:
            return _entry(composer, recipient, None, _message(exc))
        return _entry(composer, recipient, letter, None)

    def compose(self, recipient_id: str, lang: str) -> tuple[Snapshot, Letter, Recipient]:
        """One letter; raises KeyError for an unknown id, AdvocacyError for a broken file."""
        with self.lock:
            snap = self.snapshot
            if snap.campaign is None:
                raise AdvocacyError(snap.error or "the campaign did not load")
            recipient = next((r for r in snap.campaign.recipients if r.id == recipient_id), None)
            if recipient is None:
                raise KeyError(recipient_id)
            composer = self._composer(snap, self._accepted(snap, lang))
        if isinstance(composer, str):
            raise AdvocacyError(composer)
        try:
            return snap, composer.compose(recipient), recipient
        except AdvocacyError:
            raise
        except Exception as exc:
            raise AdvocacyError(_message(exc)) from exc

    def pdf(self, recipient_id: str, lang: str) -> tuple[bytes, Letter]:
        snap, letter, _ = self.compose(recipient_id, lang)
        assert snap.campaign is not None
        # WeasyPrint is imported here, on the first PDF asked for, not at start-up.
        from ..formats.pdf import DEFAULT_VARIANT, PdfRenderer

        with self.pdf_lock:
            try:
                if snap.pdf_renderer is None:
                    campaign = snap.campaign
                    stylesheet = campaign.templates_dir / campaign.config.campaign.stylesheet
                    snap.pdf_renderer = PdfRenderer(campaign.root, stylesheet, DEFAULT_VARIANT)
                data, _problems, _fitted = snap.pdf_renderer.render(
                    letter.html,
                    f"templates/{letter.template} (recipient {recipient_id!r})",
                    recipient_id,
                )
            except Exception as exc:
                raise AdvocacyError(_message(exc)) from exc
        return data, letter

    def stylesheet_url(self) -> str | None:
        campaign = self.snapshot.campaign
        if campaign is None:
            return None
        path = campaign.templates_dir / campaign.config.campaign.stylesheet
        if not path.is_file() or not is_within(path, self.root):
            return None
        return "/campaign/" + quote(path.relative_to(self.root).as_posix())

    def watch_dirs(self) -> list[Path]:
        """Folders whose files the campaign reads; watched without recursing into
        the rest of the folder (a checkout's .venv or .git holds thousands)."""
        dirs = {self.root}
        for top in ("templates", "recipients", "locales"):
            folder = self.root / top
            if folder.is_dir():
                dirs.add(folder)
                dirs.update(p for p in folder.rglob("*") if p.is_dir())
        campaign = self.snapshot.campaign
        if campaign is not None:
            for pattern in campaign.config.campaign.recipients:
                prefix = pattern.split("*")[0]
                base = self.root / prefix
                if prefix and not prefix.endswith("/"):
                    base = base.parent
                if base.is_dir() and is_within(base, self.root):
                    dirs.add(base.resolve())
                    if "**" in pattern:
                        dirs.update(p for p in base.rglob("*") if p.is_dir())
            # Every folder of a file a letter is made from (Campaign.source_files).
            dirs.update(path.parent.resolve() for path in campaign.source_files())
        return sorted(
            d
            for d in dirs
            if d.is_dir()
            and is_within(d, self.root)
            and not any(part.startswith(".") for part in d.relative_to(self.root).parts)
        )


def _message(exc: Exception) -> str:
    """One line for the page. AdvocacyErrors already name file and line; anything
    else (a template dividing by zero) is a bug or a surprise: keep its type."""
    if isinstance(exc, AdvocacyError):
        return str(exc)
    log.debug("composing failed", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


def inject_preview(html: str, letter: Letter, stylesheet_url: str | None, zoom: float = 1) -> str:
    """The composed letter, dressed for the browser: the bundled and campaign CSS
    (WeasyPrint gets them as separate stylesheets), a sheet at true paper size
    scaled by `zoom` (the page's fit to its pane, so the letter arrives at the
    size it is shown at), and an overlay of the envelope window and fold marks."""
    links = '<link rel="stylesheet" href="/assets/base.css">'
    if stylesheet_url:
        links += f'<link rel="stylesheet" href="{stylesheet_url}">'
    links += '<link rel="stylesheet" href="/ui/letter-preview.css">'
    # Relative URLs (a signature image) resolve against the campaign folder, as in the PDF.
    html = re.sub(r"(<head\b[^>]*>)", r'\1<base href="/campaign/">', html, count=1, flags=re.I)
    if re.search(r"</head\s*>", html, flags=re.I):
        html = re.sub(r"(</head\s*>)", lambda m: links + m.group(1), html, count=1, flags=re.I)
    else:
        html = links + html
    paper = "pv-letter" if letter.paper == "Letter" else "pv-a4"
    overlay = (
        '<div class="pv-overlay" aria-hidden="true"><div class="pv-page"></div>'
        '<div class="pv-window"><span class="pv-label">envelope window</span></div>'
        '<div class="pv-fold pv-fold-1"><span class="pv-label">fold</span></div>'
        '<div class="pv-fold pv-fold-2"><span class="pv-label">fold</span></div>'
        '<div class="pv-page-end"><span class="pv-label">end of page 1 in the PDF</span></div>'
        "</div>"
    )
    scaled = f' style="zoom: {zoom:.4g}"' if zoom < 1 else ""
    opening = (
        f'<body class="pv {paper}"><div class="pv-sheet"{scaled}>{overlay}<div class="pv-content">'
    )
    body = re.search(r"<body\b[^>]*>", html, flags=re.I)
    if body is None:
        return html
    html = html[: body.start()] + opening + html[body.end() :]
    end = html.lower().rfind("</body")
    if end == -1:
        return html + "</div></div>"
    return html[:end] + "</div></div>" + html[end:]
