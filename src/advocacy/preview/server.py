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
from dataclasses import dataclass
from html import escape as html_escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from ..campaign.discovery import find_campaign
from ..campaign.model import RESOURCE_TYPES
from ..errors import AdvocacyError, ServerError
from ..fsutil import is_within
from ..paths import ASSETS_DIR, CAMPAIGN_FILE
from .watcher import ChangeFeed, Watcher
from .workspace import Workspace, inject_preview

log = logging.getLogger("advocacy.preview")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
PAGE_DIR = ASSETS_DIR / "preview"
PAGE_FILES = {"app.js", "app.css", "letter-preview.css"}  # served under /ui/
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


@dataclass
class ServeOptions:
    campaign: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port
    language: str | None = None  # --lang: the page's initial language choice
    debounce_ms: int = 300


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
            self._letter(match.group(1), match.group(2), _lang(query, ""), _zoom(query))
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
        content_type = RESOURCE_TYPES.get(path.suffix.lower())
        if content_type is None or not is_within(path, root) or not path.is_file():
            self._not_found()
            return
        self._file(path, content_type)

    def _letter(self, recipient_id: str, kind: str, lang: str, zoom: float = 1) -> None:
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
        html = inject_preview(letter.html, letter, workspace.stylesheet_url(), zoom)
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


def _zoom(query: dict[str, str]) -> float:
    """The page's scale for the sheet (fitted to its pane), 0.1 to 1; 1 if absent or odd."""
    try:
        zoom = float(query.get("zoom", "1"))
    except ValueError:
        return 1
    return zoom if 0.1 <= zoom <= 1 else 1  # also refuses nan and inf


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
