"""`send --via groups.csv` after `print --by group`: each group gets its part of the
print set (combined PDF, checklist PDF and CSV, labels) and the note says how to
print and report back; sent through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pdfplumber

from conftest import edit_file, normalize, run_cli
from mailserver import MailServer

ATTACHED = re.compile(r"([\w.-]+\.(?:pdf|csv)) \((\d+ (?:pages?|bytes|KB))\)")


def _listed(stdout: str) -> dict[str, list[tuple[str, str]]]:
    """The dry run's table: each group's address -> (file name, pages or size)."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in stdout.splitlines():
        address = re.search(r"[\w.-]+@example\.org", line)
        if address and ATTACHED.search(line):
            rows[address.group(0)] = ATTACHED.findall(line)
    return rows


def test_each_group_gets_its_print_set_and_how_to_print(
    mini_campaign: Path, tmp_path: Path
) -> None:
    edit_file(mini_campaign / "campaign.toml", "placeholder = true", "placeholder = false")
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "match,name,email,language\n"
        "de-mfa,Berlin Belarusians,berlin@example.org,de\n"
        "us-dos,Washington Group,dc@example.org,en\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    made = run_cli(
        *("print", str(mini_campaign), "--out", str(out), "--by", "group"),
        *("--via", str(groups), "--duplex", "--labels", "l7163"),
    )
    assert made.returncode == 0, made.stderr
    dry = run_cli(
        *("send", str(mini_campaign), "--out", str(out), "--via", str(groups)),
        env={"COLUMNS": "400"},
    )
    assert dry.returncode == 0, dry.stderr
    listed = _listed(dry.stdout)
    server = MailServer().start()
    try:
        sent = run_cli(
            *("send", str(mini_campaign), "--out", str(out), "--smtp", server.url),
            *("--via", str(groups), "--no-dry-run", "--yes"),
        )
        assert sent.returncode == 0, sent.stderr
        by_group = {r.rcpt_tos[0]: r.message for r in server.messages()}
    finally:
        server.stop()
    berlin = by_group["berlin@example.org"]
    attached = {a.get_filename(): a.get_content() for a in berlin.iter_attachments()}
    names = ["berlin-belarusians.pdf", "checklist-berlin-belarusians.pdf"]
    names += ["checklist-berlin-belarusians.csv", "labels-l7163-berlin-belarusians.pdf"]
    assert sorted(attached) == sorted(names)
    # The dry run listed exactly what each group's mail then carried, with pages.
    for rcpt, message in by_group.items():
        carried = [a.get_filename() for a in message.iter_attachments()]
        assert [name for name, _ in listed[rcpt]] == carried, rcpt
    with pdfplumber.open(out / "print" / "berlin-belarusians.pdf") as pdf:
        pages = len(pdf.pages)
    shown = dict(listed["berlin@example.org"])
    assert shown["berlin-belarusians.pdf"] == f"{pages} pages"
    assert shown["checklist-berlin-belarusians.pdf"] == "1 page"
    csv_size = (out / "print" / "checklist-berlin-belarusians.csv").stat().st_size
    assert shown["checklist-berlin-belarusians.csv"] == f"{csv_size} bytes"
    for name, data in attached.items():
        raw = data.encode() if isinstance(data, str) else data
        assert raw.replace(b"\r\n", b"\n") == (out / "print" / name).read_bytes().replace(
            b"\r\n", b"\n"
        )
    rows = list(
        csv.reader(io.StringIO((out / "print/checklist-berlin-belarusians.csv").read_text()))
    )
    assert [r[0] for r in rows[1:]] == ["de-mfa"]  # only the group's own letter
    with pdfplumber.open(out / "print" / "berlin-belarusians.pdf") as pdf:
        assert "Federal Foreign Office" in normalize(
            " ".join(p.extract_text() or "" for p in pdf.pages)
        )
    text = " ".join(berlin.get_body(("plain",)).get_content().split())
    assert "Zum Drucken: berlin-belarusians.pdf, labels-l7163-berlin-belarusians.pdf" in text
    assert "auf Papier A4, beidseitig" in text
    assert "checklist-berlin-belarusians.csv ausfüllen (event: delivered" in text
    assert "Federal Foreign Office (Germany): berlin-belarusians.pdf" in text
    washington = by_group["dc@example.org"]
    assert "washington-group.pdf" in {a.get_filename() for a in washington.iter_attachments()}
    dc_text = " ".join(washington.get_body(("plain",)).get_content().split())
    assert "on Letter paper, on both sides" in dc_text
