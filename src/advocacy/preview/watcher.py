"""Following the editor: a `watchfiles` thread reloads the workspace when a file the
campaign reads is saved, and a `ChangeFeed` tells every open page."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..campaign.model import CATALOG_SUFFIXES, TEMPLATE_SUFFIXES
from .workspace import Workspace

log = logging.getLogger("advocacy.preview")
# A save of any of these reloads the campaign: what `Campaign.source_files` can hold,
# and recipient lists (.yaml, .csv) and campaign.toml.
WATCHED_SUFFIXES = {".toml", ".yaml", ".yml", ".csv", *TEMPLATE_SUFFIXES, *CATALOG_SUFFIXES}


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
