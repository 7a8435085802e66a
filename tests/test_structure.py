"""The package's shape: stages import only stages below them, modules stay small,
every error class lives in errors.py, and `import advocacy` stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import advocacy
import advocacy.errors

SRC = Path(advocacy.__file__).resolve().parent
# The pipeline, bottom first: a module may import its own layer and the ones before it.
LAYERS = [
    {"errors", "fsutil", "csvfile", "paths", "spool", "runtime", "__init__"},
    {"i18n"},
    {"campaign"},
    {"letter"},
    {"registers"},  # recipient lists from public registers (uses the letter sandbox)
    {"formats"},
    {"render"},
    {"send", "preview", "printset"},
    {"track"},  # the delivery loop: reads the journals send writes, renders follow-ups
    {"cli", "__main__"},
]
MAX_LINES = 450


def _layer(top: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "_bundled" not in p.parts)


def _imported_tops(path: Path) -> set[str]:
    """The top-level parts of advocacy that `path` imports (relative or absolute)."""
    package = path.relative_to(SRC).parts[:-1]
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # from . import x (at the top): x is the module
                    parts = [alias.name for alias in node.names]
                tops.update([parts[0]] if parts else [])
            elif node.module and node.module.startswith("advocacy."):
                tops.add(node.module.split(".")[1])
    return tops


def test_stages_import_only_the_stages_below_them() -> None:
    wrong = []
    for path in _modules():
        rel = path.relative_to(SRC)
        own = _layer(rel.parts[0].removesuffix(".py"))
        for top in _imported_tops(path):
            top = top.removesuffix(".py")
            if top not in {name for layer in LAYERS for name in layer}:
                continue  # a module of the same package imported by name (from . import x)
            if _layer(top) > own:
                wrong.append(f"{rel} imports {top}")
    assert wrong == []


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_error_class_lives_in_errors_py_and_in_its_tree() -> None:
    defined_elsewhere = []
    for path in _modules():
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & {"Exception", "AdvocacyError", "BadInput", "BaseException"}:
                    defined_elsewhere.append(f"{path.relative_to(SRC)}: {node.name}")
    assert defined_elsewhere == []
    doc = advocacy.errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(advocacy.errors).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert classes and all(f" {name} " in doc for name in classes), classes


def test_the_public_api_resolves_lazily() -> None:
    code = (
        "import sys, advocacy\n"
        "heavy = [m for m in ('weasyprint', 'typer', 'rich', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
        "for name in advocacy.__all__: getattr(advocacy, name)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
