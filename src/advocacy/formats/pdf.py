"""PDF output with WeasyPrint, imported only when a PDF is really made.

One `PdfRenderer` per process: it builds the font configuration and the
stylesheets once and reuses them for every letter (see notes/weasyprint.md:
reuse is what keeps WeasyPrint fast and its memory flat). Resources are
fetched through a fetcher that serves only files inside the campaign folder
and the package's assets, never the network.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import LimitExceeded, ResourceBlocked, SystemDependencyError, TemplateError
from ..fsutil import is_within
from ..paths import ASSETS_DIR
from . import syslibs
from .images import pixel_problem

FONTS_DIR = ASSETS_DIR / "fonts"
FONT_FILES = [
    FONTS_DIR / f"DejaVuSerif{style}.ttf"
    for style in ("", "-Bold", "-Italic", "-BoldItalic", "Condensed")
]
DEFAULT_VARIANT = "pdf/ua-1"
VARIANTS = (
    "pdf/ua-1",
    "pdf/ua-2",
    "pdf/a-1b",
    "pdf/a-2b",
    "pdf/a-3b",
    "pdf/a-2u",
    "pdf/a-3u",
    "pdf/a-4",
    "none",
)


def _import_weasyprint() -> Any:
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    try:
        with _names_tried_directly():
            import weasyprint
    except OSError:
        for name in [name for name in sys.modules if name.split(".")[0] == "weasyprint"]:
            del sys.modules[name]  # half imported: the slow way, every name looked up
        try:
            import weasyprint
        except OSError as exc:
            absent = syslibs.missing(syslibs.REQUIRED) or list(syslibs.REQUIRED)
            raise SystemDependencyError(syslibs.missing_message(absent)) from exc
    return weasyprint


@contextmanager
def _names_tried_directly() -> Iterator[None]:
    """While WeasyPrint loads its libraries, a name that the dynamic loader does not
    know is not looked up with ctypes' `find_library`. WeasyPrint tries six names per
    library (`libgobject-2.0-0`, ..., `libgobject-2.0.so.0`) and each miss ran
    ldconfig, gcc and ld: 0.2 s of every render's start-up on an idle machine, more
    under load. The file name that follows loads directly; when it does not, the
    import is done again the slow way (`_import_weasyprint`)."""
    import ctypes.util

    looked_up = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = looked_up


class _Collector(logging.Handler):
    """Collects WeasyPrint's error records for one letter (they do not raise)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _collect_errors() -> Iterator[_Collector]:
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


def make_fetcher(weasyprint: Any, roots: list[Path]) -> Any:
    """A URLFetcher that allows data: URLs and files inside `roots`, nothing else."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    resolved = [root.resolve() for root in roots]

    class Blocked(FatalURLFetchingError):  # type: ignore[misc]
        pass

    class TooLarge(Blocked):
        pass

    class CampaignFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                response = super().fetch(url, headers)
                body = response.read()
                _bounded(body, "a data: URL")
                return URLFetcherResponse(response.url, body=body, headers=response.headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path))
                if any(is_within(path, root) for root in resolved) and path.is_file():
                    real = path.resolve()
                    body = real.read_bytes()
                    _bounded(body, real.name)
                    return URLFetcherResponse(real.as_uri(), body=body)
                raise Blocked(f"{path}: outside the campaign folder, or missing")
            raise Blocked(f"{url}: not a local file, and network access is off")

    def _bounded(body: bytes, what: str) -> None:
        """An image above images.MAX_PIXELS is refused before WeasyPrint decodes it."""
        problem = pixel_problem(body)
        if problem:
            raise TooLarge(f"{what} {problem}")

    fetcher = CampaignFetcher(fail_on_errors=True, allowed_protocols={"file", "data"})
    fetcher.blocked_type = Blocked
    fetcher.too_large_type = TooLarge
    return fetcher


class PdfRenderer:
    """Renders letters' HTML to PDF, reusing fonts and stylesheets across letters."""

    def __init__(self, campaign_root: Path, stylesheet: Path | None, variant: str) -> None:
        if variant not in VARIANTS:
            raise TemplateError(f"unknown --pdf-variant {variant!r}; use one of {VARIANTS}")
        missing = [f.name for f in FONT_FILES if not f.is_file()]
        if missing:
            raise SystemDependencyError(
                f"the bundled fonts {', '.join(missing)} are missing from {FONTS_DIR}; "
                "reinstall advocacy"
            )
        self.wp = _import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        self.root = campaign_root.resolve()
        self.variant = None if variant == "none" else variant
        self.fetcher = make_fetcher(self.wp, [self.root, ASSETS_DIR])
        self.font_config = FontConfiguration()
        self.stylesheets = [
            self.wp.CSS(
                string=(ASSETS_DIR / "base.css").read_text(encoding="utf-8"),
                base_url=ASSETS_DIR.as_uri() + "/",
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        ]
        if stylesheet is not None and stylesheet.is_file():
            with self._guard(str(stylesheet.relative_to(self.root))):
                self.stylesheets.append(
                    self.wp.CSS(
                        string=stylesheet.read_text(encoding="utf-8"),
                        base_url=stylesheet.parent.as_uri() + "/",
                        url_fetcher=self.fetcher,
                        font_config=self.font_config,
                    )
                )

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except self.fetcher.too_large_type as exc:
            raise LimitExceeded(f"{what}: {exc}") from None
        except self.fetcher.blocked_type as exc:
            raise ResourceBlocked(
                f"{what}: refused to load {exc}; a letter may only use files inside "
                "its campaign folder"
            ) from None
        except BaseException as exc:
            cause = exc.__cause__
            if type(exc).__name__ == "FatalURLFetchingError" and isinstance(
                cause, self.fetcher.too_large_type
            ):
                raise LimitExceeded(f"{what}: {cause}") from None
            if type(exc).__name__ == "FatalURLFetchingError" and isinstance(
                cause, self.fetcher.blocked_type
            ):
                raise ResourceBlocked(
                    f"{what}: refused to load {cause}; a letter may only use files inside "
                    "its campaign folder"
                ) from None
            raise

    def _layout(self, html: str) -> tuple[Any, Any]:
        document = self.wp.HTML(
            string=html,
            base_url=self.root.as_uri() + "/",
            url_fetcher=self.fetcher,
        )
        laid_out = document.render(
            stylesheets=self.stylesheets,
            font_config=self.font_config,
            pdf_variant=self.variant,
            pdf_tags=self.variant is not None and "ua" in self.variant,
        )
        return laid_out, document.etree_element

    def render(
        self, html: str, what: str, who: str = "", *, folds: bool = True
    ) -> tuple[bytes, list[str], str]:
        """PDF bytes for one letter, WeasyPrint's complaints about it, and the HTML
        as laid out (with the type sizes that made every box fit, formats/fit.py).
        `who` names the letter in a layout failure ("recipient 'de-mfa'"); `folds=False`
        for a page that is not folded (no text is moved off the fold lines)."""
        from .fit import fit

        with _collect_errors() as collector, self._guard(what):
            document, fitted = fit(html, self._layout, who or what, folds=folds)
            data = document.write_pdf(
                pdf_variant=self.variant,
                pdf_tags=self.variant is not None and "ua" in self.variant,
                uncompressed_pdf=False,
            )
        return bytes(data), collector.messages, fitted

    def layout(self, html: str, what: str) -> Any:
        """`html` laid out, without fitting: for pages that the caller measures
        (formats/boxes.py) and writes with `write_pages` (the print set's envelopes)."""
        with self._guard(what):
            return self._layout(html)[0]

    def write_pages(self, document: Any, pages: list[Any], what: str) -> tuple[bytes, list[str]]:
        """PDF bytes of `pages` (of `document` or of others laid out by this renderer)."""
        with _collect_errors() as collector, self._guard(what):
            data = document.copy(pages).write_pdf(
                pdf_variant=self.variant,
                pdf_tags=self.variant is not None and "ua" in self.variant,
                uncompressed_pdf=False,
            )
        return bytes(data), collector.messages
