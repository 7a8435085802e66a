"""advocacy: turn a resolution's demands into localized letters to governments."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Looked up lazily: importlib.metadata costs ~60 ms of start-up for every command.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("advocacy")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    raise AttributeError(name)
