"""The email's HTML, with nothing in it a mail client would fetch.

A template is untrusted: a remote image or a CSS `url()` in the HTML part would tell
a third party when a ministry opened the letter. The PDF's fetcher refuses them; the
email has no fetcher of ours, so the HTML itself is cleaned after the stylesheet is
inlined. Links (`<a href>`) stay: a person clicks them, a mail client does not.
"""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser

import tinycss2

# Elements dropped with everything inside them: they load, run or redirect.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "applet", "noscript"}
)
# Void or harmful elements dropped on their own.
_DROP = frozenset({"base", "link", "meta", "param", "embed"})
# Attributes whose value a client loads (or pings) without a click.
_RESOURCE_ATTRS = frozenset(
    {
        "src",
        "srcset",
        "lowsrc",
        "dynsrc",
        "background",
        "poster",
        "data",
        "action",
        "formaction",
        "manifest",
        "ping",
        "longdesc",
        "xlink:href",
    }
)
_LINKS = frozenset({"a", "area"})  # href on these is a link, kept
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")  # what browsers strip from inside URLs
_LOCAL_SCHEMES = frozenset({"cid", "data"})  # parts of this message, or inline


def is_remote(url: str) -> bool:
    """Whether a client would go somewhere else for `url` (a scheme other than
    cid:/data:, or a protocol-relative `//host`)."""
    value = _INVISIBLE.sub("", htmllib.unescape(url))
    if value.startswith(("//", "\\\\", "/\\", "\\/")):
        return True
    match = _SCHEME.match(value)
    return match is not None and match.group(1).lower() not in _LOCAL_SCHEMES


def _remote_in_css(tokens: list[tinycss2.ast.Node]) -> list[str]:
    """The remote URLs a CSS value would load: url(), src(), image-set() strings."""
    found: list[str] = []
    for token in tokens:
        if token.type == "url" and is_remote(token.value):
            found.append(token.value)
        elif token.type == "function":
            args = token.arguments
            name = token.lower_name
            if name in {"url", "src"} or name.endswith("image-set") or name == "image":
                found += [t.value for t in args if t.type == "string" and is_remote(t.value)]
            found += _remote_in_css(args)
        elif token.type in {"() block", "[] block", "{} block"}:
            found += _remote_in_css(token.content)
    return found


def clean_style(style: str) -> tuple[str, list[str]]:
    """A style attribute without the declarations that load something remote."""
    kept, removed = [], []
    for node in tinycss2.parse_blocks_contents(style, skip_whitespace=True, skip_comments=True):
        if node.type == "declaration":
            remote = _remote_in_css(node.value)
            if remote:
                removed += remote
                continue
            kept.append(node)
        elif node.type in {"at-rule", "qualified-rule"}:
            removed.append(tinycss2.serialize([node]).strip()[:80])  # not a declaration
    text = "; ".join(tinycss2.serialize([node]).strip() for node in kept)
    return text, removed


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.removed: list[str] = []
        self.skipping: list[str] = []  # the dropped elements we are inside

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], close: bool) -> None:
        if self.skipping:
            if tag in _DROP_WITH_CONTENT and not close:
                self.skipping.append(tag)
            return
        if tag in _DROP_WITH_CONTENT:
            if tag != "style":  # the inliner has already taken the stylesheets in
                self.removed.append(f"<{tag}>")
            if not close:
                self.skipping.append(tag)
            return
        if tag in _DROP:
            # Reported only when it would have loaded something: a <meta charset> or
            # <meta name="author"> is dropped without a word on every letter.
            remote = [value for _, value in attrs if value and _loads_remote(value)]
            if remote:
                self.removed.append(f"<{tag}> {remote[0]}")
            return
        values = dict(attrs)
        if tag == "img" and any(is_remote(values.get(a) or "") for a in ("src", "srcset")):
            self.removed.append(values.get("src") or values.get("srcset") or "")
            alt = values.get("alt")
            if alt:
                self.out.append(htmllib.escape(alt, quote=False))
            return
        parts, before = [tag], len(self.removed)
        for name, value in attrs:
            text = value or ""
            if name.startswith("on"):  # event handlers never belong in a letter
                self.removed.append(f"{name}=")
                continue
            if name == "style":
                text, gone = clean_style(text)
                self.removed += gone
                if gone and not text:
                    continue
            elif (name == "href" and tag not in _LINKS and is_remote(text)) or (
                name in _RESOURCE_ATTRS and (name == "ping" or _any_remote(name, text))
            ):
                self.removed.append(text)
                continue
            parts.append(name if value is None else f'{name}="{htmllib.escape(text)}"')
        if len(self.removed) == before:  # nothing taken out: the tag as it was written
            self.out.append(self.get_starttag_text() or "")
            return
        self.out.append(f"<{' '.join(parts)}{' /' if close else ''}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, close=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, close=True)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in self.skipping:  # also closes what was left open inside it
                del self.skipping[self.skipping.index(tag) :]
            return
        if tag in _DROP or tag in _DROP_WITH_CONTENT:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        # A "<" in data is a tag the parser could not finish (at the very end): text.
        if not self.skipping:
            self.out.append(data.replace("<", "&lt;"))

    def handle_entityref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        # Dropped: conditional comments (<!--[if mso]>) carry markup of their own.
        if "http" in data.lower() or "[if" in data.lower():
            self.removed.append("<!-- ... -->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s;]+)", re.IGNORECASE)


def _loads_remote(value: str) -> bool:
    """An attribute value of a dropped element that points elsewhere: a URL, or a
    <meta http-equiv="refresh" content="0; url=..."> target."""
    refresh = _REFRESH_URL.search(value)
    return is_remote(value.strip()) or (refresh is not None and is_remote(refresh.group(1)))


def _any_remote(name: str, value: str) -> bool:
    if name == "srcset":  # "a.png 1x, https://t.example/p.gif 2x"
        return any(is_remote(part.strip().split(" ")[0]) for part in value.split(",") if part)
    return is_remote(value)


def strip_remote(html: str) -> tuple[str, list[str]]:
    """`html` with every remote reference left out, and what was left out."""
    cleaner = _Cleaner()
    cleaner.feed(html)
    cleaner.close()
    return "".join(cleaner.out), [item for item in cleaner.removed if item]
