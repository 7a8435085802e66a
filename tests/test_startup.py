"""Start-up work that every render pays: WeasyPrint loads its system libraries without
running ldconfig, gcc and ld for each name it tries, and the lookup it borrows for
that is given back."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes.util, sys
started = []
def hook(event, args):
    if event == "subprocess.Popen":
        started.append(args[1])
sys.addaudithook(hook)
looked_up = ctypes.util.find_library
from advocacy.formats.pdf import _import_weasyprint
weasyprint = _import_weasyprint()
assert ctypes.util.find_library is looked_up
assert _import_weasyprint() is weasyprint
document = weasyprint.HTML(string="<p>Minsk</p>").render()
print(len(document.pages), started)
"""


def test_weasyprint_loads_its_libraries_without_starting_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    pages, started = result.stdout.strip().split(" ", 1)
    assert pages == "1"
    assert started == "[]"  # before: ldconfig, gcc and ld, about 50 of them
