"""Untrusted campaigns, second round (issue 18): every hostile case is one line naming
the file, entry or template and the limit, the letter it poisons fails alone (exit
non-zero, no traceback) and the batch's other letter is written.

Every render runs in a subprocess under RLIMIT_AS (`CEILING`), so a regression of a
memory bound fails the test instead of swapping the machine. The memory cases ask for
more than the letter's bound but less than the ceiling: only the bound can stop them."""

from __future__ import annotations

import io
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from advocacy.formats.images import MAX_PIXELS
from advocacy.letter import limits
from conftest import REPO, edit_file, run_cli

CEILING = 2 * 1024**3  # bytes of address space a test's render may have
BIG = 800_000_000  # characters: above limits.MAX_MEMORY, below CEILING

Edit = Callable[[Path], None]


def _ceiling() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))


def render(root: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advocacy", "render", str(root), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        preexec_fn=_ceiling,
    )


def _only_us(code: str) -> Edit:
    """Hostile template code, run for the letter to us-dos only."""

    def edit(root: Path) -> None:
        edit_file(
            root / "templates" / "letter.html.j2",
            "{% block body %}",
            "{% block body %}{% if recipient.id == 'us-dos' %}" + code + "{% endif %}",
        )

    return edit


def _big_png(root: Path) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (9450, 9450), 1).save(buffer, "PNG", optimize=True)
    (root / "templates" / "huge.png").write_bytes(buffer.getvalue())  # for the PDF
    (root / "huge.png").write_bytes(buffer.getvalue())  # the email embeds from the root
    _only_us('<img src="huge.png" alt="">')(root)


def _us_name(name: str) -> Edit:
    def edit(root: Path) -> None:
        edit_file(
            root / "recipients" / "list.yaml",
            "  organisation: U.S. Department of State\n",
            f"  organisation: U.S. Department of State\n  name: '{name}'\n"
            "  email: office@state.example\n",
        )
        edit_file(
            root / "recipients" / "list.yaml",
            "  organisation: {en: Federal Foreign Office",
            "  email: office@auswaertiges-amt.example\n  organisation: {en: Federal Foreign Office",
        )

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(root: Path) -> None:
        for each in edits:
            each(root)

    return edit


# case -> (edit, extra render options, words the failure line names)
LETTER_CASES: dict[str, tuple[Edit, tuple[str, ...], tuple[str, ...]]] = {
    "center": (_only_us(f"{{{{ 'x'|center({BIG}) }}}}"), (), ("MB of memory",)),
    "indent": (_only_us(f"{{{{ 'x\\ny'|indent({BIG}) }}}}"), (), ("MB of memory",)),
    "format width": (
        _only_us(f"{{{{ '%*s'|format({BIG}, 'x') }}}}"),
        (),
        ("MB of memory",),
    ),
    "%s width": (_only_us(f"{{{{ '%{BIG}s'|format('x') }}}}"), (), ("MB of memory",)),
    "join separator": (
        _only_us("{{ range(1000)|join('x' * 1000000) }}"),
        (),
        ("MB of memory",),
    ),
    "replace fan-out": (
        _only_us("{{ ('x' * 1000000)|replace('x', 'y' * 1000) }}"),
        (),
        ("MB of memory",),
    ),
    "batch fill": (
        _only_us(f"{{{{ range(10)|batch({BIG}, 'x')|list }}}}"),
        (),
        ("MB of memory",),
    ),
    "slice fill": (
        _only_us("{{ (range(100000)|list + [0])|slice(100000, 'x' * 1000000)|list }}"),
        (),
        ("MB of memory",),
    ),
    "doubling list": (
        _only_us(
            "{% set ns = namespace(x=['a']) %}{% for i in range(40) %}"
            "{% set ns.x = ns.x + ns.x %}{% endfor %}{{ ns.x|length }}"
        ),
        (),
        ("MB of memory",),
    ),
    "doubling namespace text": (
        _only_us(
            "{% set ns = namespace(x='xy') %}{% for i in range(40) %}"
            "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}"
        ),
        (),
        ("MB of memory",),
    ),
    "output in a loop": (
        _only_us("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}"),
        (),
        ("2,000,000 characters",),
    ),
    "nested loops": (
        _only_us(
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
        ),
        (),
        ("1,000,000 loop steps",),
    ),
    "recursive macro": (
        _only_us("{% macro f(n) %}{{ f(n) ~ f(n) }}{% endmacro %}{{ f(1) }}"),
        (),
        ("letter.html.j2",),
    ),
    "power chain": (_only_us("{{ (((10 ** 60) ** 60) ** 60) ** 60 }}"), (), ("too large",)),
    "cpu time": (
        _only_us(
            "{% for i in range(1000) %}{% for j in range(200) %}"
            "{% set _ = ('x' * 1000000).upper() %}{% endfor %}{% endfor %}"
        ),
        (),
        (f"{limits.MAX_CPU_SECONDS:g} s of CPU time",),
    ),
    "image pixels": (_big_png, ("--format", "pdf"), ("huge.png", f"{MAX_PIXELS:,} pixels")),
    "image pixels in the email": (
        _both(_big_png, _us_name("Office")),
        ("--format", "eml", "--no-attach-pdf"),
        ("huge.png", f"{MAX_PIXELS:,} pixels"),
    ),
    # An encoded CR/LF in a name is refused when the list is read (FORGED_AT_LOAD).
}


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    from conftest import MINI_RECIPIENTS, bundled_toml

    (root / "recipients").mkdir()
    (root / "recipients" / "list.yaml").write_text(MINI_RECIPIENTS, encoding="utf-8")
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    return root


def _cases() -> list[object]:
    slow = {"cpu time"}  # burns the whole CPU bound of a letter
    return [pytest.param(c, marks=pytest.mark.slow) if c in slow else c for c in LETTER_CASES]


@pytest.mark.parametrize("case", _cases())
def test_a_hostile_letter_fails_alone_with_one_line(
    campaign: Path, tmp_path: Path, case: str
) -> None:
    edit, options, words = LETTER_CASES[case]
    edit(campaign)
    out = tmp_path / "out"
    result = render(campaign, out, "--jobs", "1", *(options or ("--format", "html")))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1, result.stderr
    assert "us-dos" in failed[0] and any(word in failed[0] for word in words), failed[0]
    assert "templates/" in failed[0] or "recipient 'us-dos'" in failed[0]
    written = {p.name.split(".")[0] for p in out.iterdir() if not p.name.startswith(("m", "."))}
    assert written == {"de-mfa"}, sorted(p.name for p in out.iterdir())


def test_the_bounds_hold_in_pool_workers_too(campaign: Path, tmp_path: Path) -> None:
    """--jobs 2: the worker processes set the memory bound themselves."""
    _only_us(f"{{{{ 'x'|center({BIG}) }}}}")(campaign)
    result = render(campaign, tmp_path / "out", "--jobs", "2", "--format", "html")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "us-dos" in result.stderr and "MB of memory" in result.stderr
    assert (tmp_path / "out" / "de-mfa.en.html").is_file()


# -- catalogs -------------------------------------------------------------------

SUBJECT = (
    "Political prisoners in Belarus: acting on the European Parliament resolution of "
    "{{ letter.resolution_date }}"
)


def _german(root: Path, changes: dict[str, str], header: tuple[str, str] | None = None) -> Path:
    """The bundled German catalog in the campaign, with `changes` (msgid -> msgstr)."""
    from babel.messages.pofile import read_po, write_po

    folder = root / "locales" / "de"
    shutil.copytree(REPO / "locales" / "de", folder)
    po = folder / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    for msgid, msgstr in changes.items():
        assert catalog[msgid] is not None, msgid
        catalog[msgid].string = msgstr
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    data = buffer.getvalue()
    if header:
        assert header[0].encode() in data
        data = data.replace(header[0].encode(), header[1].encode(), 1)
    po.write_bytes(data)
    return po


CATALOG_REFUSED = {
    "huge nplurals": (
        {},
        ("nplurals=2;", "nplurals=100000000;"),
        ("messages.po", "Plural-Forms", "nplurals=100000000"),
    ),
    "unknown charset": (
        {},
        ("charset=utf-8", "charset=klingon"),
        ("messages.po", "Content-Type", "klingon"),
    ),
    "width": (
        {"Version in %(language)s": "Fassung %9999999d auf %(language)s"},
        None,
        ("messages.po", "Version in %(language)s", "%9999999d"),
    ),
    "too big": (
        {},
        ('msgid ""', "#" + "x" * 5_000_000 + '\nmsgid ""'),
        ("messages.po", "5,000,000"),
    ),
    "unparsable": (
        {},
        ('msgid ""', 'msgid "unclosed\nmsgid ""'),
        ("messages.po", "malformed catalog"),
    ),
}


@pytest.mark.parametrize("case", sorted(CATALOG_REFUSED))
def test_a_hostile_catalog_fails_only_its_language_s_letters(
    campaign: Path, tmp_path: Path, case: str
) -> None:
    """A volunteer's catalog is one line naming the catalog and the entry, for each
    letter in its language; the other languages' letters are written all the same."""
    changes, header, words = CATALOG_REFUSED[case]
    _german(campaign, changes, header)
    out = tmp_path / "out"
    result = render(campaign, out, "--format", "html")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and all(word in failed[0] for word in words), result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "(de-mfa)" in errors[0], result.stderr
    assert sorted(p.name for p in out.glob("*.html")) == ["us-dos.en.html"]
    assert "Secretary" in (out / "us-dos.en.html").read_text(encoding="utf-8")
    check = run_cli("translations", "status", str(campaign))  # a translator is told too
    assert check.returncode != 0 and all(word in check.stderr for word in words), check.stderr


HOSTILE_TEXT = {
    # msgstr -> what must not be in the letter's HTML
    SUBJECT: (
        "{% filter upper %}gefangene{% endfilter %} {{ letter.resolution_date }} "
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "GEFANGENE",
    ),
    "In line with the resolution, we respectfully ask you to:": (
        'Wir bitten Sie <img src="x" onerror="y" darum:',
        '<img src="x"',
    ),
    "Increase the pressure on the regime through new sanctions.": (
        "Den Druck <!-- erhöhen.",
        "<!-- erhöhen",
    ),
}


def test_a_translation_is_text_never_code(campaign: Path, tmp_path: Path) -> None:
    """`{% filter %}` and loops in the subject's msgstr, an unclosed `<img` and a `<!--`:
    each is printed as the literal text it is; the letters are written."""
    _german(campaign, {msgid: text for msgid, (text, _) in HOSTILE_TEXT.items()})
    out = tmp_path / "out"
    result = render(campaign, out, "--format", "html", "--allow-fallback")
    assert result.returncode == 0, result.stderr
    html = (out / "de-mfa.de.html").read_text(encoding="utf-8")
    assert "{% filter upper %}gefangene{% endfilter %}" in html  # as text, not run
    for _msgstr, forbidden in HOSTILE_TEXT.values():
        assert forbidden not in html.split("<body", 1)[1], forbidden
    assert "Sie &lt;img src=" in html and "Druck &lt;!-- erhöhen." in html
    assert (out / "us-dos.en.html").is_file()


# -- fields, the relay note, the envelope ------------------------------------------


@pytest.mark.parametrize(
    ("where", "old", "new", "words"),
    [
        (
            "recipients/list.yaml",
            "organisation: U.S. Department of State",
            "organisation: 'U.S. Department of \u202eetatS'",
            ("recipients/list.yaml", "entry 2 (id 'us-dos')", "organisation", "U+202E"),
        ),
        (
            "recipients/list.yaml",
            "city: Washington",
            "city: 'Washing\u2066ton'",
            ("recipients/list.yaml", "address.city", "U+2066"),
        ),
        (
            "campaign.toml",
            'organisation = "Example Belarusian Diaspora Association"',
            'organisation = "Example \u202eDiaspora"',
            ("campaign.toml", "organisation", "U+202E"),
        ),
    ],
)
def test_bidi_controls_are_refused_like_control_characters(
    campaign: Path, tmp_path: Path, where: str, old: str, new: str, words: tuple[str, ...]
) -> None:
    edit_file(campaign / where, old, new)
    result = render(campaign, tmp_path / "out", "--format", "html")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and all(w in errors[0] for w in words), result.stderr
    assert "bidirectional" in errors[0]


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("{{ ('x' * 1000000)|replace('x', 'y' * 1000) }}", ("MB of memory",)),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            ("1,000,000 loop steps",),
        ),
        ("{% for i in range(30000) %}{{ 'x' * 100 }}{% endfor %}", ("2,000,000 characters",)),
    ],
)
def test_the_relay_note_is_bounded_like_a_letter(
    campaign: Path, tmp_path: Path, expression: str, words: tuple[str, ...]
) -> None:
    note = campaign / "templates" / "relay.txt.j2"
    note.write_text(note.read_text(encoding="utf-8") + expression + "\n", "utf-8")
    groups = tmp_path / "groups.csv"
    groups.write_text("match,name,email,language\nde-mfa,Berlin,berlin@example.org,en\n")
    args = ["send", str(campaign), "--out", str(tmp_path / "o"), "--via", str(groups)]
    result = subprocess.run(
        [sys.executable, "-m", "advocacy", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        preexec_fn=_ceiling,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "templates/relay.txt.j2" in errors[0], result.stderr
    assert any(word in errors[0] for word in words), errors[0]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Bcc: evil@evil.example", "Bcc header"),
        ("Cc: evil@evil.example", "Cc header"),
        ("Resent-To: evil@evil.example", "Resent-To header"),
        ("Sender: evil@evil.example", "Sender header"),
    ],
)
def test_a_message_that_would_reach_more_than_its_letter_is_not_sent(
    header: str, words: str
) -> None:
    """The check before sending: the message's own headers name its one recipient
    and no other (an added Cc or Bcc would reach someone the letter is not for)."""
    from advocacy.send.outgoing import envelope_problem

    good = (
        b"From: Group <letters@example.org>\r\nTo: Office <office@state.example>\r\n"
        b"Subject: Letter\r\n\r\nbody\r\n"
    )
    assert envelope_problem("office@state.example", good) == ""
    bad = good.replace(b"Subject:", header.encode() + b"\r\nSubject:")
    problem = envelope_problem("office@state.example", bad)
    assert problem.startswith("not sent:") and words in problem
    encoded = good.replace(b"To: Office", b"To: =?utf-8?q?Office=0D=0ABcc:_evil=40evil.example?=")
    assert "line break" in envelope_problem("office@state.example", encoded)


def test_security_md_lists_every_bound_with_its_value() -> None:
    from advocacy.i18n import msgtext

    text = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    bounds = text.split("## Bounds", 1)[1].split("\n## ", 1)[0]
    for value in (
        f"{limits.MAX_OUTPUT:,} characters",
        f"{limits.MAX_ITERATIONS:,} per letter",
        f"{limits.MAX_CPU_SECONDS:g} s",
        f"{limits.MAX_MEMORY // 1024**2} MB",
        f"{limits.MAX_INT_BITS:,} bits",
        f"{MAX_PIXELS:,} pixels",
        f"{msgtext.MAX_CATALOG_BYTES:,} bytes",
        f"1 to {msgtext.MAX_NPLURALS}",
        f"{msgtext.MAX_MESSAGE:,} characters",
    ):
        assert value in bounds, value


FORGED = "=?utf-8?q?Office=0D=0ABcc:_evil=40evil.example?="  # decodes to a line break

FORGED_AT_LOAD = {
    # case -> (file, old text, new text, words the one line must hold)
    "recipient organisation": (
        "recipients/list.yaml",
        "organisation: U.S. Department of State",
        f'organisation: "{FORGED}"',
        ("recipients/list.yaml", "us-dos", "organisation", "encoded word"),
    ),
    "recipient name": (
        "recipients/list.yaml",
        "  organisation: U.S. Department of State",
        f'  organisation: U.S. Department of State\n  name: "Antony {FORGED}"',
        ("recipients/list.yaml", "us-dos", "name", "encoded word"),
    ),
    "sender organisation": (
        "campaign.toml",
        'organisation = "Example Belarusian Diaspora Association"',
        f'organisation = "{FORGED}"',
        ("campaign.toml", "sender", "organisation", "encoded word"),
    ),
}


@pytest.mark.parametrize("case", sorted(FORGED_AT_LOAD))
def test_an_encoded_word_that_decodes_to_a_line_break_is_refused_at_load(
    campaign: Path, tmp_path: Path, case: str
) -> None:
    """Checked once decoded, when the file is read: not only when an email is built
    (the second line of defence), so a print run refuses it too."""
    name, old, new, words = FORGED_AT_LOAD[case]
    edit_file(campaign / name, old, new)
    out = tmp_path / "out"
    result = render(campaign, out, "--format", "pdf")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if not x.startswith("warning:")]
    assert all(word in line for word in words), line
    assert not out.exists()


def test_a_relay_group_name_that_decodes_to_a_line_break_is_refused_at_load(
    campaign: Path, tmp_path: Path
) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text(
        f'name,email,match,language\n"Minsk {FORGED}",group@example.org,de-mfa,de\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_cli(
        *("send", str(campaign), "--out", str(out), "--via", str(groups)),
        *("--smtp", "smtp://u@127.0.0.1:1"),  # a dry run: the list is read first
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if not x.startswith("warning:")]
    assert f"{groups}: line 2: column 'name'" in line and "encoded word" in line, line
    assert not out.exists()
