"""Bad input: one clear line naming file, entry and field; exit 2; nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import files_in, run_cli

Edit = Callable[[Path], None]


def _recipients(text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / "recipients" / "list.yaml").write_text(text, encoding="utf-8")

    return edit


def _replace(old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / "recipients" / "list.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _template(body: str) -> Edit:
    def edit(root: Path) -> None:
        (root / "templates" / "letter.html.j2").write_text(
            '{% extends "advocacy/base.html.j2" %}\n{% block body %}\n'
            + body
            + "\n{% endblock %}\n",
            encoding="utf-8",
        )

    return edit


def _csv(data: bytes) -> Edit:
    def edit(root: Path) -> None:
        (root / "recipients" / "list.yaml").unlink()
        (root / "recipients" / "list.csv").write_bytes(data)

    return edit


def _toml(old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / "campaign.toml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _secret_outside(root: Path) -> Path:
    secret = root.parent / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    return secret


def _symlinked_template(root: Path) -> None:
    secret = _secret_outside(root)
    (root / "templates" / "evil.html").symlink_to(secret)
    _template("{% include 'evil.html' %}")(root)


def _symlinked_image(root: Path) -> None:
    secret = _secret_outside(root)
    (root / "templates" / "pic.svg").symlink_to(secret)
    _template('<img src="templates/pic.svg" alt="x">')(root)


def _symlinked_list(root: Path) -> None:
    secret = root.parent / "elsewhere.yaml"
    secret.write_text("- id: x\n  country: DE\n  organisation: TOP-SECRET-CONTENT\n")
    (root / "recipients" / "evil.yaml").symlink_to(secret)


def _symlinked_letter(root: Path) -> None:
    secret = _secret_outside(root)
    target = root / "templates" / "letter.html.j2"
    target.unlink()
    target.symlink_to(secret)


def _import_from(port_file: Path) -> Edit:
    def edit(root: Path) -> None:
        port = port_file.read_text()
        css = root / "templates" / "letter.css"
        css.write_text(f"@import url(http://127.0.0.1:{port}/x.css);\n" + css.read_text())

    return edit


Case = tuple[Edit, list[str]] | tuple[Edit, list[str], int] | tuple[Edit, list[str], int, list[str]]
NOTHING: Edit = lambda root: None  # noqa: E731

CASES: dict[str, Case] = {
    "unknown country": (
        _replace("country: DE", "country: XX"),
        ["recipients/list.yaml", "entry 1 (id 'de-mfa')", "field 'country'", "'XX'"],
    ),
    "unknown language": (
        _replace("languages: [de-DE]", "languages: [qq-ZZ]"),
        ["recipients/list.yaml", "entry 1 (id 'de-mfa')", "field 'languages'", "'qq-ZZ'"],
    ),
    "duplicate id": (
        _replace("id: us-dos", "id: de-mfa"),
        ["recipients/list.yaml", "entry 2 (id 'de-mfa')", "field 'id'", "duplicates"],
    ),
    "id with a path separator": (
        _replace("id: us-dos", "id: ../us-dos"),
        ["entry 2 (id '../us-dos')", "field 'id'", "path separator"],
    ),
    "id with a leading dot": (
        _replace("id: us-dos", "id: .hidden"),
        ["entry 2 (id '.hidden')", "field 'id'", "not a safe file name"],
    ),
    "missing required field": (
        _replace("  organisation: U.S. Department of State\n", ""),
        ["entry 2 (id 'us-dos')", "field 'organisation'", "required"],
    ),
    "unknown field": (
        _replace("tags: [partner]", "tagz: [partner]"),
        ["entry 2 (id 'us-dos')", "field 'tagz'", "not a known field"],
    ),
    "unknown paper": (
        _replace("tags: [partner]", "paper: A5"),
        ["entry 2 (id 'us-dos')", "field 'paper'", "'A5'"],
    ),
    "malformed YAML": (
        _recipients("- id: a\n  country: DE\n organisation: x\n"),
        ["recipients/list.yaml", "malformed YAML", "line 3"],
    ),
    "YAML that is not a list": (
        _recipients("id: a\n"),
        ["recipients/list.yaml", "expected a list"],
    ),
    "CSV with a ragged row": (
        _csv(b"id,country,organisation\nat-mfa,AT,Ministry,extra\n"),
        ["recipients/list.csv", "line 2", "more cells than the header"],
    ),
    "CSV that is not UTF-8": (
        _csv("id,country,organisation\nat-mfa,AT,Außenministerium\n".encode("latin-1")),
        ["recipients/list.csv", "line 2", "not UTF-8", "CSV UTF-8"],
    ),
    "CSV without an id column": (
        _csv(b"name,country\nx,AT\n"),
        ["recipients/list.csv", "'id'"],
    ),
    "template with a missing variable": (
        _template("<p>{{ recipient.minister_name }}</p>"),
        ["templates/letter.html.j2:3", "minister_name", "recipient 'de-mfa'"],
    ),
    "template syntax error": (
        _template("<p>{% if %}</p>"),
        ["templates/letter.html.j2:3", "syntax error"],
    ),
    "template attribute walk": (
        _template("{{ ''.__class__.__mro__ }}"),
        ["templates/letter.html.j2:3", "sandbox"],
    ),
    "template includes /etc/passwd": (
        _template("{% include '/etc/passwd' %}"),
        ["templates/letter.html.j2:3", "'/etc/passwd' not found"],
    ),
    "template includes a symlink out of the folder": (
        _symlinked_template,
        ["templates/letter.html.j2:3", "'evil.html' not found"],
    ),
    "image from /etc/passwd": (
        _template('<img src="file:///etc/passwd" alt="x">'),
        [
            "templates/letter.html.j2 (recipient 'de-mfa')",
            "refused to load /etc/passwd",
            "inside its campaign folder",
        ],
    ),
    "image through ..": (
        _template('<img src="../secret.txt" alt="x">'),
        ["refused to load", "secret.txt"],
    ),
    "image through a symlink": (_symlinked_image, ["refused to load", "pic.svg"]),
    "stylesheet from the network": (
        _template('<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'),
        ["refused to load http://127.0.0.1:9/x.css", "network access is off"],
    ),
    "attachment of a local file": (
        _template('<link rel="attachment" href="../secret.txt">'),
        ["refused to load", "secret.txt"],
    ),
    "base href to the root": (
        _template('<base href="file:///etc/"><img src="passwd" alt="x">'),
        ["refused to load /etc/passwd"],
    ),
    "malformed campaign.toml": (
        _toml("[campaign]", "[campaign"),
        ["campaign.toml", "malformed TOML"],
    ),
    "campaign.toml missing a field": (
        _toml('title = "Release all political prisoners in Belarus"\n', ""),
        ["campaign.toml", "'campaign.title'", "required"],
    ),
    "recipients outside the folder": (
        _toml(
            'recipients = ["recipients/*.yaml", "recipients/*.csv"]', 'recipients = ["../*.yaml"]'
        ),
        ["campaign.toml", "outside the campaign folder"],
    ),
    "stylesheet outside the folder": (
        _toml('stylesheet = "letter.css"', 'stylesheet = "../../x.css"'),
        ["campaign.toml", "outside the campaign folder"],
    ),
    "letter template outside the folder": (
        _toml('letter_template = "letter.html.j2"', 'letter_template = "../../x.html.j2"'),
        ["campaign.toml", "template '../../x.html.j2' points outside"],
    ),
    "letter template is a symlink out": (
        _symlinked_letter,
        ["campaign.toml: template 'letter.html.j2' points outside the campaign folder"],
    ),
    "recipient list is a symlink out": (
        _symlinked_list,
        ["recipients/evil.yaml", "link to a file outside the campaign folder"],
    ),
    "signature image outside the folder": (
        _toml('# image = "signature.svg"', 'image = "../../etc/x.svg"'),
        ["campaign.toml", "signature.image", "outside the campaign folder"],
    ),
    "co-signatories outside the folder": (
        _toml('# cosignatories_csv = "cosignatories.csv"', 'cosignatories_csv = "../c.csv"'),
        ["campaign.toml", "cosignatories_csv", "outside the campaign folder"],
    ),
    "campaign.toml date of the wrong type": (
        _toml("date = 2026-12-10", 'date = "next tuesday"'),
        ["campaign.toml", "'campaign.date'"],
    ),
    "unknown language policy": (
        _toml('language = "recipient"', 'language = "klingon"'),
        ["campaign.toml: campaign.language 'klingon'", "neither"],
    ),
    "unknown setting in campaign.toml": (
        _toml('fallback_language = "en"', 'fallback_language = "en"\nfalback = 1'),
        ["'campaign.falback' is not a known setting"],
    ),
    "id with a NUL": (
        _replace("id: us-dos", 'id: "us\\0dos"'),
        ["entry 2", "field 'id'", "control character U+0000"],
    ),
    "id that is ..": (
        _replace("id: us-dos", 'id: ".."'),
        ["entry 2 (id '..')", "field 'id'", "not a safe file name"],
    ),
    "name with a line break": (
        _replace("  tags: [partner]", '  tags: [partner]\n  name: "Jane\\r\\nBcc: x@example.org"'),
        ["entry 2 (id 'us-dos')", "field 'name'", "control character U+000D"],
    ),
    "name of 10 MB": (
        _replace("  tags: [partner]", "  tags: [partner]\n  name: " + "x" * 10_485_760),
        ["entry 2 (id 'us-dos')", "field 'name'", "10,485,760 characters long; at most 10,000"],
    ),
    "YAML with a duplicate key": (
        _replace("  country: US\n", "  country: US\n  country: CA\n"),
        ["recipients/list.yaml", "duplicate key 'country'", "line 12"],
    ),
    "characters the font cannot print": (
        _replace("organisation: U.S. Department of State", "organisation: 外交部"),
        ["1 of 2 letter(s) failed (us-dos)", "field 'organisation'", "'外' (U+5916)"],
    ),
    "template builds a gigabyte": (
        _template("{{ 'x' * 10**9 }}"),
        ["templates/letter.html.j2:3", "sandbox", "too large"],
    ),
    "template loops forever": (
        _template("{% for i in range(10**12) %}{{ i }}{% endfor %}"),
        ["templates/letter.html.j2:3", "OverflowError", "Range too big"],
    ),
    "template includes the campaign file": (
        _template("{% include '../campaign.toml' %}"),
        ["'../campaign.toml' not found"],
    ),
    "unknown --lang": (NOTHING, ["--lang 'xx-Q'"], 2, ["--lang", "xx-Q"]),
    "unknown --format": (NOTHING, ["unknown --format 'docx'"], 2, ["--format", "docx"]),
    "unknown --pdf-variant": (NOTHING, ["'pdf/z-9'"], 2, ["--pdf-variant", "pdf/z-9"]),
    "--pdf-variant typo, refused before any letter": (
        NOTHING,
        ["--pdf-variant 'pdf/ua1' is not a PDF variant", "pdf/ua-1, pdf/ua-2"],
        2,
        ["--pdf-variant", "pdf/ua1"],
    ),
    "a misspelt campaign.toml key hides behind what it makes missing": (
        _toml('organisation = "Example', 'organization = "Example'),
        ["campaign.toml", "'sender.organization' is not a known setting", "'organisation'?"],
    ),
    "a CSV header written as a spreadsheet capitalises it": (
        _csv(b"id,country,Organisation,languages\nx1,DE,Foo,de\n"),
        ["recipients/list.csv", "'Organisation' is not a known field", "'organisation'?"],
    ),
    "a date that reads two ways": (
        _replace("  confidence: high\n", "  confidence: high\n  verified: 03/04/2026\n"),
        ["'verified'", "can be read two ways", "YYYY-MM-DD (2026-11-30)"],
    ),
    "a date that does not exist": (
        _replace("  confidence: high\n", "  confidence: high\n  verified: 31.02.2026\n"),
        ["'verified'", "'31.02.2026' is not a date", "YYYY-MM-DD"],
    ),
    "a number below its minimum": (
        _toml("[sender]", "[smtp]\nconnections = -1\n\n[sender]"),
        ["campaign.toml", "'smtp.connections'", "must be 0 or more"],
    ),
    "a dotted name inside a trans block": (
        _template("<p>{% trans %}{{ sender.organisation }} asks{% endtrans %}</p>"),
        ["templates/letter.html.j2:3", "inside {% trans %}", "{% trans org=sender.organisation %}"],
    ),
    "an unknown filter": (
        _template("<p>{{ 'x' | shout }}</p>"),
        ["no filter named 'shout'", "the filters are country, ", "date, number"],
    ),
}


WRITTEN = {"characters the font cannot print": ["de-mfa.en.pdf", "manifest.json"]}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case: str, mini_campaign: Path, tmp_path: Path) -> None:
    edit, expected = CASES[case][0], CASES[case][1]
    code = CASES[case][2] if len(CASES[case]) > 2 else 2  # type: ignore[misc]
    extra = CASES[case][3] if len(CASES[case]) > 3 else []  # type: ignore[misc]
    edit(mini_campaign)
    out = tmp_path / "out"
    result = run_cli("render", str(mini_campaign), "--out", str(out), *extra)
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0], (part, lines[0])
    assert ".;" not in lines[0] and "Input should" not in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert "TOP-SECRET-CONTENT" not in result.stderr + result.stdout
    if case in WRITTEN:  # one letter failed, the batch went on
        assert files_in(out) == WRITTEN[case]
    else:
        assert not out.exists(), files_in(out)


def test_unknown_selector_lists_close_matches(mini_campaign: Path, tmp_path: Path) -> None:
    result = run_cli("render", str(mini_campaign), "--to", "de-mf", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "--to 'de-mf' matches no recipient" in result.stderr
    assert "did you mean de-mfa" in result.stderr
    assert not (tmp_path / "o").exists()


def test_output_folder_that_is_a_file(mini_campaign: Path, tmp_path: Path) -> None:
    target = tmp_path / "letters"
    target.write_text("not a folder")
    result = run_cli("render", str(mini_campaign), "--out", str(target))
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr
    assert target.read_text() == "not a folder"


def test_foreign_output_folder_needs_force(mini_campaign: Path, tmp_path: Path) -> None:
    target = tmp_path / "letters"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    result = run_cli("render", str(mini_campaign), "--out", str(target))
    assert result.returncode == 2
    assert "--force" in result.stderr
    assert files_in(target) == ["thesis.docx"]


def test_debug_shows_the_traceback(mini_campaign: Path, tmp_path: Path) -> None:
    _replace("country: DE", "country: XX")(mini_campaign)
    result = run_cli("--debug", "render", str(mini_campaign), "--out", str(tmp_path / "o"))
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_one_failed_letter_does_not_stop_the_batch(mini_campaign: Path, tmp_path: Path) -> None:
    """The second letter fails to compose: the first is written whole, the failure named."""
    (mini_campaign / "templates" / "letter.html.j2").write_text(
        '{% extends "advocacy/base.html.j2" %}{% block body %}'
        "{% if recipient.id == 'us-dos' %}{{ recipient.nope }}{% endif %}{% endblock %}",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_cli("render", str(mini_campaign), "--out", str(out))
    assert result.returncode == 2
    assert "1 of 2 letter(s) failed (us-dos)" in result.stderr
    assert "recipient 'us-dos'" in result.stderr
    assert files_in(out) == ["de-mfa.en.pdf", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["recipient"] for e in manifest["letters"]] == ["de-mfa"]
