"""System libraries WeasyPrint needs, and a clear line when one is missing."""

from __future__ import annotations

import ctypes.util
from typing import Any

# Debian/Ubuntu package -> shared library name that ctypes can find.
REQUIRED = {
    "libpango-1.0-0": "pango-1.0",
    "libpangoft2-1.0-0": "pangoft2-1.0",
    "libharfbuzz0b": "harfbuzz",
}
# Optional but 3-4x faster: WeasyPrint subsets fonts with HarfBuzz instead of fontTools.
FAST = {"libharfbuzz-subset0": "harfbuzz-subset"}


def missing(packages: dict[str, str]) -> list[str]:
    return [pkg for pkg, lib in packages.items() if ctypes.util.find_library(lib) is None]


def apt_line(packages: list[str]) -> str:
    return "sudo apt-get install -y " + " ".join(packages)


def missing_message(packages: list[str]) -> str:
    return (
        f"WeasyPrint cannot load the system libraries {', '.join(packages)}; "
        f"install them with: {apt_line(packages)}"
    )


def speed_warning(weasyprint: Any) -> str | None:
    """What WeasyPrint itself loaded (it looks for the library under six names): asking
    ctypes' find_library instead ran `ldconfig -p`, a subprocess, on every render."""
    if getattr(weasyprint.text.ffi, "harfbuzz_subset", True) is not None:
        return None
    absent = list(FAST)
    return (
        f"{', '.join(absent)} is not installed, so PDFs render 3-4 times slower; "
        f"install it with: {apt_line(absent)}"
    )
