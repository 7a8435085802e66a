"""`advocacy preview --serve`: every letter of a campaign in a local web page.

A stdlib `ThreadingHTTPServer` serves a static page (no build step), the
composed letters (the same HTML the PDF is made from, drawn at true paper
size), PDFs made on demand, and a Server-Sent Events stream. A `watchfiles`
thread reloads the campaign when one of its files is saved and pushes the
change to every open page. A broken file becomes an error on the page; the
server keeps running.

Campaign folders come from strangers and the server listens on a port other
programs can reach, so it serves a fixed set of routes and nothing else: no
file is looked up from a request path except allow-listed assets, which must
lie inside the campaign folder or the package's assets (`..`, encoded or
not, and symlinks out are refused with 404). It binds to 127.0.0.1 unless the
caller names another host, and refuses requests for other host names (DNS
rebinding). Letters are served with a Content-Security-Policy that runs no
script, since a template may contain any HTML.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape as html_escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from ..campaign.discovery import find_campaign
from ..campaign.model import Campaign, load_campaign
from ..campaign.recipients import Recipient
from ..errors import AdvocacyError
from ..fsutil import is_within
from ..i18n import l10n
from ..letter.compose import Composer, Letter
from ..paths import ASSETS_DIR, CAMPAIGN_FILE
from .terminal import campaign_warnings, letter_warnings

log = logging.getLogger("advocacy.preview")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
PAGE_DIR = ASSETS_DIR / "preview"
PAGE_FILES = {"app.js", "app.css", "letter-preview.css"}  # served under /ui/
# Campaign files a letter may pull in (its stylesheet, signature image, fonts).
CAMPAIGN_SUFFIXES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
# A save of any of these reloads the campaign (templates, lists, catalogs, images).
WATCHED_SUFFIXES = {".toml", ".j2", ".yaml", ".yml", ".csv", ".po", *CAMPAIGN_SUFFIXES}
LETTER_ROUTE = re.compile(r"^/letter/([A-Za-z0-9][A-Za-z0-9._-]{0,99})\.(html|pdf)$")
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
LETTER_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; base-uri 'self'; form-action 'none'; frame-ancestors 'self'"
)
POLICY_OPTIONS = ("recipient", "bilingual")


class ServerError(AdvocacyError):
    """The preview server cannot start (port in use, address not available)."""


@dataclass
class ServeOptions:
    campaign: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port
    language: str | None = None  # --lang: the page's initial language choice
    debounce_ms: int = 300


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

    `Composer` is not thread-safe (it installs per-letter filters on its Jinja
    environment), so every composition runs under one lock.
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
        # One letter at a time under the lock, so that the page's request for the
        # selected letter is not kept waiting behind all the others.
        for recipient in snap.campaign.recipients:
            with self.lock:
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
            composer = self._composer(snap, lang)
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
                data, _problems = snap.pdf_renderer.render(
                    letter.html, f"templates/{letter.template} (recipient {recipient_id!r})"
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
            signature = campaign.config.signature
            if signature and signature.image:
                dirs.add((self.root / signature.image).parent.resolve())
            if campaign.config.campaign.cosignatories_csv:
                dirs.add((self.root / campaign.config.campaign.cosignatories_csv).parent.resolve())
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


def inject_preview(html: str, letter: Letter, stylesheet_url: str | None) -> str:
    """The composed letter, dressed for the browser: the bundled and campaign CSS
    (WeasyPrint gets them as separate stylesheets), a sheet at true paper size,
    and an overlay of the envelope window and fold marks."""
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
        '<div class="pv-overlay" aria-hidden="true">'
        '<div class="pv-window"><span class="pv-label">envelope window</span></div>'
        '<div class="pv-fold pv-fold-1"><span class="pv-label">fold</span></div>'
        '<div class="pv-fold pv-fold-2"><span class="pv-label">fold</span></div>'
        '<div class="pv-page-end"><span class="pv-label">end of page 1 in the PDF</span></div>'
        "</div>"
    )
    opening = f'<body class="pv {paper}"><div class="pv-sheet">{overlay}<div class="pv-content">'
    body = re.search(r"<body\b[^>]*>", html, flags=re.I)
    if body is None:
        return html
    html = html[: body.start()] + opening + html[body.end() :]
    end = html.lower().rfind("</body")
    if end == -1:
        return html + "</div></div>"
    return html[:end] + "</div></div>" + html[end:]


# -- pushing changes -----------------------------------------------------------


class ChangeFeed:
    """The current version; event-stream handlers wait on it for the next one."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.closed = False
        self._cond = threading.Condition()

    def publish(self, version: int) -> None:
        with self._cond:
            self.version = version
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen or self.closed, timeout)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _relevant(path: str) -> bool:
    p = Path(path)
    if p.name.startswith(".") or p.name.endswith("~"):
        return False  # editor swap and backup files, atomic-write temporaries
    return p.suffix.lower() in WATCHED_SUFFIXES or p.is_dir()


class Watcher(threading.Thread):
    """Reloads the workspace when one of its files is saved, then publishes."""

    def __init__(self, workspace: Workspace, feed: ChangeFeed, debounce_ms: int) -> None:
        super().__init__(name="advocacy-preview-watcher", daemon=True)
        self.workspace = workspace
        self.feed = feed
        self.debounce_ms = debounce_ms
        self.stop_event = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self._watch()
            except Exception:  # a watched folder vanished, inotify ran out: start again
                log.exception("watching %s failed; starting again", self.workspace.root)
                self.stop_event.wait(0.5)

    def _watch(self) -> None:
        from watchfiles import watch

        while not self.stop_event.is_set():
            dirs = self.workspace.watch_dirs()
            changes_seen = watch(
                *dirs,
                watch_filter=lambda _change, path: _relevant(path),
                debounce=max(self.debounce_ms, 50),
                step=50,
                stop_event=self.stop_event,
                rust_timeout=500,
                yield_on_timeout=True,
                recursive=False,
            )
            try:
                for changes in changes_seen:
                    self.ready.set()
                    if not changes:
                        continue
                    log.debug("changed: %s", sorted(path for _, path in changes))
                    self.feed.publish(self.workspace.reload())
                    if self.workspace.watch_dirs() != dirs:
                        break  # a new folder (a new locales/xx): watch it too
                else:
                    return  # stopped
            finally:
                changes_seen.close()

    def stop(self) -> None:
        self.stop_event.set()


# -- HTTP ----------------------------------------------------------------------


def _has_traversal(path: str) -> bool:
    """`..`, backslashes or NULs in the path, after one or two rounds of decoding."""
    for text in (path, unquote(path), unquote(unquote(path))):
        if "\\" in text or "\x00" in text:
            return True
        if any(part in ("..", ".") for part in text.split("/")):
            return True
    return False


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "advocacy-preview"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- responses -------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        csp: str = PAGE_CSP,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        extra = dict(extra or {})
        self.send_header("Cache-Control", extra.pop("Cache-Control", "no-store"))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8") + b"\n", "text/plain; charset=utf-8")

    def _json(self, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")

    def _file(self, path: Path, content_type: str, *, cache: bool = False) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            self._text(HTTPStatus.NOT_FOUND, "not found")
            return
        # The package's own fonts and CSS do not change while the server runs:
        # caching them keeps a letter's reload after each save quick.
        extra = {"Cache-Control": "max-age=3600"} if cache else None
        self._send(HTTPStatus.OK, data, content_type, extra=extra)

    def _not_found(self) -> None:
        self._text(HTTPStatus.NOT_FOUND, "not found")

    # -- routing ---------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route()  # a page that goes away mid-answer is no error

    def _host_allowed(self) -> bool:
        allowed = self.server.allowed_hosts
        return allowed is None or (self.headers.get("Host") or "").lower() in allowed

    def _route(self) -> None:
        if not self._host_allowed():
            self._text(HTTPStatus.FORBIDDEN, "unknown host name; open the address advocacy shows")
            return
        raw, _, query_string = self.path.partition("?")
        raw = raw.partition("#")[0]
        if not raw.startswith("/") or _has_traversal(raw):
            self._not_found()
            return
        path = unquote(raw)
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        routes: dict[str, Callable[[], None]] = {
            "/": lambda: self._file(PAGE_DIR / "index.html", "text/html; charset=utf-8"),
            "/api/letters": lambda: self._json(
                self.server.workspace.listing(_lang(query, self.server.workspace.language))
            ),
            "/events": self._events,
        }
        if path in routes:
            routes[path]()
        elif path.startswith("/ui/") and path[4:] in PAGE_FILES:
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            self._file(PAGE_DIR / path[4:], f"{kind}; charset=utf-8")
        elif path.startswith("/assets/"):
            self._asset(path.removeprefix("/assets/"))
        elif path.startswith("/campaign/"):
            self._campaign_file(path.removeprefix("/campaign/"))
        elif match := LETTER_ROUTE.match(path):
            self._letter(match.group(1), match.group(2), _lang(query, ""))
        else:
            self._not_found()

    def _asset(self, name: str) -> None:
        allowed = self.server.asset_files
        if name not in allowed:
            self._not_found()
            return
        self._file(ASSETS_DIR / name, allowed[name], cache=True)

    def _campaign_file(self, relative: str) -> None:
        parts = relative.split("/")
        if any(not part or part.startswith(".") for part in parts):
            self._not_found()
            return
        root = self.server.workspace.root
        path = root.joinpath(*parts)
        content_type = CAMPAIGN_SUFFIXES.get(path.suffix.lower())
        if content_type is None or not is_within(path, root) or not path.is_file():
            self._not_found()
            return
        self._file(path, content_type)

    def _letter(self, recipient_id: str, kind: str, lang: str) -> None:
        workspace = self.server.workspace
        try:
            if kind == "pdf":
                data, letter = workspace.pdf(recipient_id, lang)
                name = f"{recipient_id}.{letter.language}.pdf"
                self._send(
                    HTTPStatus.OK,
                    data,
                    "application/pdf",
                    extra={"Content-Disposition": f'inline; filename="{name}"'},
                )
                return
            _, letter, _ = workspace.compose(recipient_id, lang)
        except KeyError:
            self._not_found()
            return
        except AdvocacyError as exc:
            page = (
                '<!DOCTYPE html><meta charset="utf-8"><title>Letter not composed</title>'
                '<body style="font:14px sans-serif;color:#9b1c1c;margin:2em">'
                f"<p>This letter cannot be composed:</p><pre>{html_escape(str(exc))}</pre>"
            )
            self._send(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                page.encode("utf-8"),
                "text/html; charset=utf-8",
                csp=LETTER_CSP,
            )
            return
        html = inject_preview(letter.html, letter, workspace.stylesheet_url())
        self._send(HTTPStatus.OK, html.encode("utf-8"), "text/html; charset=utf-8", csp=LETTER_CSP)

    def _events(self) -> None:
        """Server-Sent Events: `hello` with the current version, then `change` on each
        reload; a comment every 15 s keeps proxies and the browser from timing out."""
        feed = self.server.feed
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command == "HEAD":
            return
        seen = feed.version
        hello = {"version": seen, "instance": self.server.instance}
        self.wfile.write(f"event: hello\ndata: {json.dumps(hello)}\n\n".encode())
        self.wfile.flush()
        while not feed.closed:
            version = feed.wait(seen, timeout=15)
            if feed.closed:
                break
            if version != seen:
                seen = version
                message = f"event: change\ndata: {json.dumps({'version': seen})}\n\n"
            else:
                message = ": keep-alive\n\n"
            self.wfile.write(message.encode())
            self.wfile.flush()


def _lang(query: dict[str, str], default: str) -> str:
    """The page's language choice: "" for the campaign's policy, or a code."""
    if "lang" not in query:
        return default
    value = query["lang"]
    if value in POLICY_OPTIONS:
        return value
    return value if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value) else ""


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # event streams must not keep the process alive after Ctrl-C
    allow_reuse_address = True

    def __init__(self, options: ServeOptions) -> None:
        if ":" in options.host:
            self.address_family = socket.AF_INET6
        root, bundled = find_campaign(options.campaign)
        if not (root / CAMPAIGN_FILE).is_file():
            raise ServerError(f"{root}: has no {CAMPAIGN_FILE}")
        self.workspace = Workspace(root, bundled, options.language)
        self.instance = self.workspace.instance = secrets.token_hex(4)
        self.feed = ChangeFeed(self.workspace.snapshot.version)
        self.asset_files = {"base.css": "text/css; charset=utf-8"} | {
            f"fonts/{p.name}": "font/ttf" for p in (ASSETS_DIR / "fonts").glob("*.ttf")
        }
        try:
            super().__init__((options.host, options.port), PreviewHandler)
        except OSError as exc:
            raise ServerError(
                f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}; "
                "choose another --port (0 picks a free one)"
            ) from None
        host, port = self.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}/"
        # Only the names this server is reached by: a web page elsewhere that
        # points its own host name at 127.0.0.1 (DNS rebinding) gets 403.
        self.allowed_hosts: set[str] | None = None
        if self.host not in ("0.0.0.0", "::"):
            names = {shown, "localhost", "127.0.0.1", "[::1]"}
            self.allowed_hosts = {f"{name}:{self.port}".lower() for name in names}
        self.watcher = Watcher(self.workspace, self.feed, options.debounce_ms)
        self.watcher.start()
        # Compose the list once now, so the page opens without waiting for it.
        threading.Thread(
            target=self.workspace.listing, args=(self.workspace.language,), daemon=True
        ).start()

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS (getfqdn), which
        # can stall for seconds on a machine without a network; nothing needs it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("preview server: error answering %s", client_address)

    def close(self) -> None:
        """Stop watching, end the event streams and close the socket."""
        self.watcher.stop()
        self.feed.close()
        self.server_close()
        self.watcher.join(timeout=2)


def start_server(options: ServeOptions) -> PreviewServer:
    """A bound server with its file watcher running; call `serve_forever()` on it."""
    return PreviewServer(options)
