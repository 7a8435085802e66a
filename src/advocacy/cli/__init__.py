"""Command line: parse options, call the library, map errors to exit codes.

The only package that imports typer or prints. `app.py` holds the app and `main()`,
the one place where an `AdvocacyError` becomes one red line and its exit code; each
other module holds the commands of one concern, each parsing its options and
delegating to the library; `console.py` shows the results.
"""

from __future__ import annotations

# Registered in the order `advocacy --help` lists them.
# isort: off
from . import letters as _letters  # noqa: F401  render, preview
from . import campaign as _campaign  # noqa: F401  translations, init, recipients
from . import registers as _registers  # noqa: F401  recipients import, recipients diff
from . import delivery as _delivery  # noqa: F401  send, status
from . import track as _track  # noqa: F401  inbox, log, report
from . import printing as _printing  # noqa: F401  print
from .app import app, main

# isort: on

__all__ = ["app", "main"]
