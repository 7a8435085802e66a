"""The one Jinja sandbox for everything a campaign's templates make: letters and relay
notes. Templates may come from strangers: no attribute walks to Python internals,
undefined names are errors, files only from inside the given folders, bounded
`*` and `**` so that `{{ 'x' * 10**9 }}` cannot eat the machine's memory, and every
loop step, call and output counted against the letter's bounds (`limits`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..fsutil import is_within, links_out
from . import limits

MAX_PRODUCT = 1_000_000  # items a template may build with * or ** (a letter needs few)


class ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses files reached through a symlink out of its folder,
    or out of `boundary` (the campaign folder): the folder itself may be a link."""

    def __init__(self, searchpath: str, boundary: Path) -> None:
        super().__init__(searchpath)
        self.boundary = boundary

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        # Checked before the file is read: a link out is refused whether or not it exists.
        for root in self.searchpath:
            candidate = Path(root) / template
            if links_out(candidate, self.boundary) or links_out(candidate, Path(root)):
                raise jinja2.TemplateNotFound(template, f"{template} links outside its folder")
        source, filename, uptodate = super().get_source(environment, template)
        path = Path(filename)
        if not (
            is_within(path, self.boundary)
            and any(is_within(path, Path(r)) for r in self.searchpath)
        ):
            raise jinja2.TemplateNotFound(template, f"{template} links outside its folder")
        return source, filename, uptodate


class LetterEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on `*` and `**`: `{{ 'x' * 10**9 }}` must not
    eat the machine's memory."""

    intercepted_binops = frozenset({"*", "**"})
    # A template's output is joined here: refused past limits.MAX_OUTPUT characters.
    concat = staticmethod(limits.bounded_concat)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every `{% for %}` loops through `limits.bounded_iter`, one step per item."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            bounded = nodes.EnvironmentAttribute("bounded_iter", lineno=loop.lineno)
            loop.iter = nodes.Call(bounded, [loop.iter], [], None, None, lineno=loop.lineno)
        return tree

    bounded_iter = staticmethod(limits.bounded_iter)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        limits.step()  # a macro calling itself is a loop too
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError(f"the exponent {right} is too large for a letter")
        if isinstance(left, int) and isinstance(right, int) and left and right:
            bits = left.bit_length() * (abs(right) if operator == "**" else 1)
            bits += right.bit_length() if operator == "*" else 0
            if bits > limits.MAX_INT_BITS:
                raise SecurityError("the number is too large for a letter")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_PRODUCT:
                    raise SecurityError("the repeated text is too large for a letter")
        return super().call_binop(context, operator, left, right)


class _CompiledOnce(BytecodeCache):
    """Compiled templates kept in memory and shared by an environment's overlays (one
    per language), so each overlay loads the letter template without compiling it
    again. Jinja checks the source's checksum on every load: an edit compiles anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def sandbox(loader: jinja2.BaseLoader, *, html: bool) -> LetterEnvironment:
    """The environment for a letter (`html`: escaped, blocks trimmed) or a plain-text
    note (nothing escaped; the line break after `{% endtrans %}` kept: paragraphs are
    lines there). Both with the same limits."""
    return LetterEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=html,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=_CompiledOnce(),
    )
