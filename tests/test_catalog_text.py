"""A translation is text (issue 18): random msgstr text fed into every catalog entry
of a German letter either renders as literal text, escaped, with only the msgid's
markup, or is refused with one line. A msgstr never adds a tag, a Jinja statement or
an email header."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from advocacy.campaign.model import load_campaign
from advocacy.errors import AdvocacyError, CatalogError
from advocacy.formats.mime import LetterMailer, build
from advocacy.i18n import catalogs
from advocacy.letter.compose import Composer
from conftest import MINI_RECIPIENTS, REPO, bundled_toml

SHOWN = "locales/de/LC_MESSAGES/messages.po"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Attribute values hold translations (aria-label): names only.
        self.seen[f"<{tag} {sorted(name for name, _ in attrs)}>"] += 1

    def handle_endtag(self, tag: str) -> None:
        self.seen[f"</{tag}>"] += 1

    def handle_comment(self, data: str) -> None:
        self.seen[f"<!--{data}-->"] += 1

    def handle_decl(self, decl: str) -> None:
        self.seen[f"<!{decl}>"] += 1

    def handle_pi(self, data: str) -> None:
        self.seen[f"<?{data}>"] += 1


def _tags(html: str) -> Counter[str]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.seen


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[Composer, object, LetterMailer]:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales" / "de", root / "locales" / "de")
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(MINI_RECIPIENTS, encoding="utf-8")
    campaign = load_campaign(root)
    composer = Composer(campaign)
    recipient = next(r for r in campaign.recipients if r.id == "de-mfa")
    recipient = recipient.model_copy(update={"email": "office@auswaertiges-amt.example"})
    return composer, recipient, LetterMailer(campaign)


def _letter(german: tuple[Composer, object, LetterMailer]) -> tuple[str, list[str]]:
    """The letter's HTML and the header names of its email."""
    composer, recipient, mailer = german
    letter = composer.compose(recipient)  # type: ignore[arg-type]
    assert letter.language == "de"
    message = build(mailer.draft(letter, recipient, None))  # type: ignore[arg-type]
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    return letter.html, sorted(parsed.keys())


def _ids() -> list[str]:
    info = catalogs.load(REPO, "de")
    return sorted(info.messages)


PIECES = [*"ab <>&\"'{}%#!-/=?_:;\n\\()[]|.*~", "{{", "{%", "%}", "<b>", "</p>", "<!--", "-->"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(msgid=st.sampled_from(_ids()), text=TEXT)
@example(msgid=_ids()[0], text="{% filter upper %}x{% endfilter %}<img src=x <!--")
@example(msgid=_ids()[0], text="=?utf-8?q?x=0D=0ABcc:_evil=40evil.example?=")
@example(msgid=_ids()[0], text="%9999999d %*s {{ 7 * 7 }}")
def test_any_msgstr_is_literal_text_or_one_line(
    german: tuple[Composer, object, LetterMailer], msgid: str, text: str
) -> None:
    composer = german[0]
    info = composer.catalogs["de"]
    original = info.messages[msgid]
    baseline_html, baseline_headers = _letter(german)
    msgstr = text + original  # the original keeps the msgid's placeholders and tags
    try:
        catalogs.check_message(msgid, msgstr, "de", SHOWN)
    except CatalogError as exc:
        assert "\n" not in str(exc) and SHOWN in str(exc)
        return
    info.messages[msgid] = msgstr
    try:
        try:
            html, headers = _letter(german)
        except AdvocacyError as exc:  # refused with one line (an encoded line break, say)
            assert "\n" not in str(exc)
            return
    finally:
        info.messages[msgid] = original
    assert _tags(html) == _tags(baseline_html)  # no tag added, none removed
    assert headers == baseline_headers  # no header added
    assert html.count("{%") >= baseline_html.count("{%")  # no statement ran
    used = str(escape(original)).split("<", 1)[0].strip()[:20]
    if used and used in baseline_html:  # the entry is in this letter: its text is there
        literal = str(escape(text)).replace("\n", " ").split()
        flat = " ".join(html.split())
        assert all(word in flat for word in literal if "%" not in word), (text, msgid)
