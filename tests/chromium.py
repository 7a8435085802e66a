"""Debian's headless Chromium for the preview's browser tests, and axe-core in it.

Playwright drives Chromium and never downloads a browser of its own
(`scripts/install.sh --test` installs Debian's). axe-core comes from npm
(`tests/npm/package-lock.json`, installed by the same script with `npm ci`).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page, Playwright

from advocacy.preview.server import PreviewServer, ServeOptions, start_server
from conftest import REPO

ARTIFACTS = REPO / "test-artifacts"  # screenshots (gitignored)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The network is closed here: nothing that phones home, no GPU, no sandbox (root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000  # generous for a loaded CI machine; a working page answers in ~1 s
AXE_JS = REPO / "tests" / "npm" / "node_modules" / "axe-core" / "axe.min.js"


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/install.sh --test (as root)")
    # Playwright gives every launch a fresh temporary profile (user-data-dir).
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """axe-core's violations (every rule it runs by default) in one document.

    The script is evaluated through the DevTools protocol, which the page's
    Content-Security-Policy (script-src 'self') does not stop. Frames are left
    out: the letter's frame runs no script, so test the letter as its own page.
    """
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run scripts/install.sh --test (it runs npm ci)")
    source = AXE_JS.read_text(encoding="utf-8")
    assert target.evaluate("() => {" + source + "\nreturn typeof window.axe;}") == "object"
    result: list[dict[str, Any]] = target.evaluate(
        """async () => {
            const result = await axe.run(document, { iframes: false });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
            }));
        }"""
    )
    return result


@contextmanager
def serving(campaign: Path, *, watched: bool = False) -> Iterator[PreviewServer]:
    """The preview server on a free port, serving in a thread; `watched`: wait for its
    file watcher first (tests that edit files while the page is open)."""
    srv = start_server(ServeOptions(campaign=campaign, port=0))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    if watched:
        assert srv.watcher.ready.wait(10), "the file watcher did not start"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.close()
        thread.join(5)
