"""The Python that runs advocacy: refuse one whose email module can be made to inject
headers (CVE-2024-6923: folded header text was not quoted, so a line break in a name
became a header of its own; fixed in 3.11.10, 3.12.5 and 3.13.0).

The fix is recognised by what it added, `email.policy.Policy.verify_generated_headers`,
not by the version number: distributions patch their own builds (Debian's 3.11.2 has
it). Headers are also built from `Address` objects and checked for line breaks before
they are written (formats/mime.py); this check is the second wall, not the only one.
"""

from __future__ import annotations

import email.policy
import os
import platform

from .errors import UnsafeRuntime

CVE = "CVE-2024-6923"
FIXED_IN = "3.11.10, 3.12.5 or 3.13"
ALLOW_ENV = "ADVOCACY_ALLOW_UNFIXED_PYTHON"  # "1": run anyway (at your own risk)


def email_fix_missing(policy: object = email.policy.default, version: str = "") -> str:
    """Why this Python may not run advocacy ("" when it has the fix)."""
    if hasattr(policy, "verify_generated_headers"):
        return ""
    running = version or platform.python_version()
    return (
        f"Python {running} lacks the fix for {CVE} (email header injection); run advocacy "
        f"with Python {FIXED_IN} or newer (or a distribution's build with the fix), or set "
        f"{ALLOW_ENV}=1 to accept the risk"
    )


def require_email_fix() -> None:
    """At start-up: refuse a Python without the fix, unless the user accepted it."""
    problem = email_fix_missing()
    if problem and os.environ.get(ALLOW_ENV) != "1":
        raise UnsafeRuntime(problem)
