"""Recipient lists read entry by entry: hostile lists are one line, in bounded memory,
and every way of reading a list (libyaml, pure Python, split or whole) gives the
same entries as PyYAML's own `safe_load`."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from advocacy.campaign import listfiles
from advocacy.campaign.recipients import load_all
from advocacy.errors import RecipientError
from conftest import REPO, bundled_toml

# Memory a `recipients list` run may take: the interpreter, its libraries and one
# campaign. A list that is read whole (or an alias that is expanded) needs gigabytes
# and fails inside this ceiling instead of swapping the machine.
CEILING = 700 << 20  # bytes of address space


def _campaign(root: Path, name: str, content: str | bytes) -> Path:
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "campaign.toml").write_text(bundled_toml(), encoding="utf-8")
    path = root / "recipients" / name
    path.parent.mkdir()
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return root


def _bounded(root: Path) -> subprocess.CompletedProcess[str]:
    """`advocacy recipients list` under the memory ceiling and a time limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))

    return subprocess.run(
        [sys.executable, "-m", "advocacy", "recipients", "list", str(root)],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
    )


LAUGHS = """\
- id: lol
  country: DE
  organisation: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  tags: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  notes: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  source: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  name: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (LAUGHS, 3),  # billion laughs
        ("- &me [*me]\n", 1),  # a list that contains itself
        ("- id: a\n  country: DE\n  organisation: x\n  tags: &t [a, *t]\n", 4),
        ("recipients: &r\n  - id: a\n    country: DE\n    organisation: *r\n", 1),
    ],
)
def test_yaml_aliases_are_refused_in_one_line(tmp_path: Path, content: str, line: int) -> None:
    result = _bounded(_campaign(tmp_path, "list.yaml", content))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (said,) = result.stderr.strip().splitlines()
    assert said == (
        f"error: recipients/list.yaml: line {line}: uses a YAML anchor and alias (&name, "
        "*name); recipient lists do not allow them: write each entry out in full"
    )


def test_a_million_row_csv_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    rows = b"".join(b"r%d,DE,Office %d,de\n" % (i, i) for i in range(1_000_000))
    root = _campaign(tmp_path, "big.csv", b"id,country,organisation,languages\n" + rows)
    result = _bounded(root)
    assert result.returncode == 2, result.stderr
    (said,) = result.stderr.strip().splitlines()
    assert said == (
        "error: recipients/big.csv: holds 1,000,000 or more recipients; a campaign takes at "
        f"most {listfiles.MAX_RECIPIENTS:,} (MAX_RECIPIENTS): split the list into campaigns "
        "of that size"
    )


def test_a_yaml_list_above_the_maximum_is_refused_before_it_is_read(tmp_path: Path) -> None:
    count = listfiles.MAX_RECIPIENTS + 1
    path = tmp_path / "list.yaml"
    path.write_text("- {id: a}\n" * count, encoding="utf-8")
    with pytest.raises(RecipientError) as caught:
        load_all([path], display_root=tmp_path)
    assert f"list.yaml: holds {count:,} or more recipients" in str(caught.value)


def test_lists_together_above_the_maximum_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listfiles, "MAX_RECIPIENTS", 10)  # 200,000 would take a minute
    half = listfiles.MAX_RECIPIENTS // 2 + 1
    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.csv"
        rows = "".join(f"{name}{i},DE,Office,de\n" for i in range(half))
        path.write_text("id,country,organisation,languages\n" + rows, encoding="utf-8")
        paths.append(path)
    with pytest.raises(RecipientError) as caught:
        load_all(paths, display_root=tmp_path)
    assert str(caught.value).startswith(
        f"b.csv: holds {listfiles.MAX_RECIPIENTS + 1:,} or more recipients"
    )


ENTRY = """\
- id: r{i}
  country: DE
  organisation: {{en: Office {i}, de: "Amt {i}"}}
  languages: [de-DE]
  verified: 2026-11-0{d}
  tags:
  - eu
  - "no"
  address:
    postal_code: "1011{d}"
    city: Berlin
"""
TRICKY = [
    # a quoted text whose second line looks like a new item
    '- id: q\n  country: DE\n  organisation: "first line\n- id: not-an-item"\n',
    # `recipients:` with another key after the list
    "recipients:\n  - id: k\n    country: FR\n    organisation: x\nnote: kept aside\n",
    # flow style
    "[{id: f, country: PL, organisation: y}]\n",
    # a header with a comment and a document marker, items at the key's indent
    "# list\n---\nrecipients:\n- id: h\n  country: DE\n  organisation: z\n",
]


LONG = "".join(ENTRY.format(i=i, d=i % 9 + 1) for i in range(450))


@pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize("saved", ["lf", "crlf-bom"])
@pytest.mark.parametrize("text", [*TRICKY, LONG])
def test_every_reading_gives_the_entries_of_safe_load(
    tmp_path: Path, text: str, fast: bool, saved: str
) -> None:
    path = tmp_path / "list.yaml"
    if saved == "crlf-bom":  # as a Windows editor saves it
        text = "\ufeff" + text.replace("\n", "\r\n")
    path.write_bytes(text.encode("utf-8"))
    expected = yaml.safe_load(text.removeprefix("\ufeff"))
    if isinstance(expected, dict):
        expected = expected["recipients"]
    assert list(listfiles.yaml_entries(path, Path("list.yaml"), fast=fast)) == expected


@pytest.mark.parametrize("saved", ["lf", "crlf-bom"])
def test_a_long_list_is_read_a_group_of_items_at_a_time(tmp_path: Path, saved: str) -> None:
    text = "\ufeff" + LONG.replace("\n", "\r\n") if saved == "crlf-bom" else LONG
    path = tmp_path / "list.yaml"
    path.write_bytes(text.encode("utf-8"))
    lead = listfiles._item_pattern(path)
    assert lead == b"-"
    assert listfiles._count(path, lead) == 450
    groups = list(listfiles._groups(path, lead))
    assert [count for _, count in groups] == [listfiles.GROUP, listfiles.GROUP, 50]
    assert "".join(text for text, _ in groups) == text.removeprefix("\ufeff")


def test_a_syntax_error_deep_in_a_long_list_names_its_line(tmp_path: Path) -> None:
    entries = "".join(ENTRY.format(i=i, d=1) for i in range(300))
    broken = entries + "- id: bad\n  country: [DE\n"
    path = tmp_path / "list.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(RecipientError) as caught:
        list(listfiles.yaml_entries(path, Path("list.yaml")))
    line = broken.count("\n") + 1  # the end of the file, where the [ is still open
    assert f"list.yaml: malformed YAML at line {line}" in str(caught.value)
