"""What goes out is what this machine rendered for that recipient (issue 21)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from mailserver import MailServer, make_campaign, office

REPO = Path(__file__).resolve().parent.parent
FORGED = "FORGED-BY-THE-SENDER-OF-THE-FOLDER"


@pytest.fixture
def server() -> Iterator[MailServer]:
    started = MailServer().start()
    yield started
    started.stop()


def _campaign(root: Path) -> Path:
    return make_campaign(root, [office(1), office(2)])  # a real sender, not the placeholder


def test_a_pre_seeded_edited_letter_is_never_sent(tmp_path: Path, server: MailServer) -> None:
    campaign = _campaign(tmp_path / "received")
    letters = campaign / "letters"
    # Whoever sent us the folder rendered it on their machine (their key) ...
    theirs = {"XDG_STATE_HOME": str(tmp_path / "their-machine")}
    made = run_cli("render", str(campaign), "--format", "eml", "--no-attach-pdf", env=theirs)
    assert made.returncode == 0, made.stderr
    # ... then edited a letter and made the manifest vouch for the edit.
    eml = letters / "r1.en.eml"
    data = eml.read_bytes().replace(b"We are writing to you", FORGED.encode(), 1)
    assert FORGED.encode() in data
    eml.write_bytes(data)
    manifest = json.loads((letters / "manifest.json").read_text())
    for entry in manifest["letters"]:
        for item in entry["files"]:
            if item["path"] == eml.name:
                item["sha256"], item["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (letters / "manifest.json").write_text(json.dumps(manifest))

    ours = {"XDG_STATE_HOME": str(tmp_path / "our-machine")}
    sent = run_cli(
        "send", str(campaign), "--to", "r1", "--smtp", server.url, "--no-attach-pdf",
        "--no-dry-run", "--json", env=ours,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    (message,) = server.messages()
    assert message.rcpt_tos == ["r1@example.org"]
    assert FORGED.encode() not in message.data
    assert b"We are writing to you" in message.data.replace(b"=\r\n", b"")
    assert "not rendered by advocacy on this machine" in sent.stderr
    assert FORGED.encode() not in eml.read_bytes()  # rendered again, in place


def test_letters_rendered_here_are_reused(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path / "ours")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    assert run_cli("render", str(campaign), "--format", "html", env=env).returncode == 0
    again = run_cli("render", str(campaign), "--format", "html", "--json", env=env)
    assert json.loads(again.stdout)["skipped"] == 2
    key = tmp_path / "state" / "advocacy" / "manifest.key"
    assert key.stat().st_mode & 0o077 == 0  # the key is the user's alone


def test_relay_groups_whose_addresses_read_alike_each_get_only_their_own_letters(
    tmp_path: Path, server: MailServer
) -> None:
    # Once a file name holds them, these four addresses all read "a-b-example.org".
    addresses = {"r1": "a+b@example.org", "r2": "a-b@example.org", "r3": "A-b@Example.org"}
    addresses["r4"] = "a/b@example.org"
    campaign = make_campaign(tmp_path / "c", [office(n) for n in range(1, 5)])
    groups = tmp_path / "groups.csv"
    rows = [f"{rid},Group {rid},{address},en" for rid, address in addresses.items()]
    groups.write_text("match,name,email,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    sent = run_cli(
        "send", str(campaign), "--out", str(out), "--smtp", server.url, "--via", str(groups),
        "--no-dry-run", "--yes",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    received = server.messages()
    assert len(received) == 4
    by_address = {r.rcpt_tos[0]: r.message for r in received}
    wanted = {
        address.rpartition("@")[0] + "@example.org": rid for rid, address in addresses.items()
    }
    assert sorted(by_address) == sorted(wanted)
    for address, message in by_address.items():
        attached = [a.get_filename() for a in message.iter_attachments()]
        assert attached == [f"{wanted[address]}.en.pdf"], address
        assert address in str(message["To"]).replace("Example.org", "example.org")
    assert len(list((out / "relay").glob("*.eml"))) == 4  # one file each, none overwritten


def test_two_rows_of_one_group_address_are_one_group(tmp_path: Path, server: MailServer) -> None:
    campaign = make_campaign(tmp_path / "c", [office(1), office(2)])
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "match,name,email,language\nr1,G,g@example.org,en\nr2,G,g@EXAMPLE.org,en\n",
        encoding="utf-8",
    )
    sent = run_cli(
        "send", str(campaign), "--out", str(tmp_path / "out"), "--smtp", server.url,
        "--via", str(groups), "--no-dry-run", "--yes",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    (message,) = server.messages()  # the domain is case-blind: one group, both letters
    assert sorted(a.get_filename() for a in message.message.iter_attachments()) == [
        "r1.en.pdf",
        "r2.en.pdf",
    ]


def test_two_groups_never_share_a_relay_file(tmp_path: Path) -> None:
    from advocacy.campaign.model import load_campaign
    from advocacy.errors import BadInput
    from advocacy.formats.mime import sender_address
    from advocacy.send.relay import Group, RelayWriter

    campaign = load_campaign(make_campaign(tmp_path / "c", [office(1)]))
    pdf = tmp_path / "r1.en.pdf"
    pdf.write_bytes(b"%PDF-1.7 stand-in")
    writer = RelayWriter(campaign, sender_address(campaign), "")
    first = Group("G", "g@example.org", "en", ["r1"], 2, "groups.csv: line 2")
    writer.write(first, campaign.recipients, {"r1": pdf}, tmp_path / "out")
    twin = Group("H", "g@example.org", "en", ["r1"], 3, "groups.csv: line 3")
    with pytest.raises(BadInput, match=r"line 3: its message would be written to .*line 2"):
        writer.write(twin, campaign.recipients, {"r1": pdf}, tmp_path / "out")


def _remote_references(html: str) -> list[str]:
    """Every http(s) reference a mail client could load from this HTML, read with a
    parser of its own: src, srcset, background, style attributes and CSS."""
    import re
    from html.parser import HTMLParser

    found: list[str] = []
    remote = re.compile(r"(?:https?:)?//", re.IGNORECASE)

    class Reader(HTMLParser):
        in_style = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.in_style = tag == "style"
            for name, value in attrs:
                loads = name in {"src", "srcset", "background", "style", "poster"}
                if (loads or (name == "href" and tag != "a")) and remote.search(value or ""):
                    found.append(f"{tag} {name}={value}")

        def handle_data(self, data: str) -> None:
            if self.in_style and remote.search(data):
                found.append(f"<style> {data[:60]}")

    Reader().feed(html)
    return found


def test_the_email_html_loads_nothing_remote(tmp_path: Path, server: MailServer) -> None:
    from conftest import edit_file

    campaign = _campaign(tmp_path / "c")
    (campaign / "logo.png").write_bytes((REPO / "docs" / "letter-us-en.png").read_bytes())
    edit_file(
        campaign / "templates" / "letter.html.j2",
        "{% block body %}",
        "{% block body %}"
        '<style>@import url("https://t.example/a.css"); p { color: black }</style>'
        '<p><img src="https://t.example/pixel.gif?r={{ recipient.id }}" alt="">'
        '<img src="logo.png" alt="Our logo"></p>'
        '<div style="color: black; background:url(http://t.example/bg.png)">Dear reader</div>'
        '<p><a href="https://www.europarl.europa.eu/">the Parliament</a></p>',
    )
    (campaign / "templates" / "email.css").write_text(
        "p { background-image: url('https://t.example/css.png') }\n", encoding="utf-8"
    )
    sent = run_cli(
        "send", str(campaign), "--out", str(tmp_path / "out"), "--smtp", server.url,
        "--no-attach-pdf", "--no-dry-run", "--yes",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "remote reference(s) left out of the HTML" in sent.stderr
    received = server.messages()
    assert len(received) == 2
    for item in received:
        message = item.message
        html = message.get_body(("html",))
        assert html is not None
        text = str(html.get_content())
        assert _remote_references(text) == []
        assert '<a href="https://www.europarl.europa.eu/">' in text  # links stay links
        assert "Dear reader" in text
        # The campaign's own image is embedded, and its part is in the message.
        assert 'src="cid:' in text
        assert any(part.get_content_type() == "image/png" for part in message.walk())


def test_a_letter_that_loads_nothing_remote_gets_no_warning_about_it(tmp_path: Path) -> None:
    from advocacy.formats.clean import strip_remote

    # The page's own <meta> elements (charset, author, description) are left out of the
    # email quietly: they load nothing, and a warning on every letter hides real ones.
    made = run_cli(
        "render", str(_campaign(tmp_path / "c")), "--format", "eml", "--no-attach-pdf",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "remote reference" not in made.stderr
    assert "remote reference" not in (tmp_path / "out" / "manifest.json").read_text()
    # What would load something is still named, with its URL.
    head = (
        '<meta charset="utf-8"><meta name="author" content="A, B">'
        '<meta http-equiv="refresh" content="0; URL=https://t.example/r">'
        '<link rel="stylesheet" href="//t.example/a.css"><base href="file:///etc/">'
    )
    cleaned, left_out = strip_remote(f"<html><head>{head}</head><body>hi</body></html>")
    assert left_out == [
        "<meta> 0; URL=https://t.example/r",
        "<link> //t.example/a.css",
        "<base> file:///etc/",
    ]
    assert "<meta" not in cleaned and "<link" not in cleaned and "hi" in cleaned


def test_a_server_reply_with_terminal_escapes_is_shown_escaped(tmp_path: Path) -> None:
    from mailserver import Behaviour

    hostile = "550 5.7.1 \x1b[2J\x1b[31mall letters delivered\x1b[0m\x07"
    server = MailServer(behaviour=Behaviour(rcpt_replies={"r2@example.org": hostile})).start()
    try:
        out = tmp_path / "out"
        sent = run_cli(
            "send", str(_campaign(tmp_path / "c")), "--out", str(out), "--smtp", server.url,
            "--no-dry-run", "--yes",
        )  # fmt: skip
    finally:
        server.stop()
    assert sent.returncode == 1
    status = run_cli("status", "--out", str(out))
    for shown in (sent.stderr, status.stdout):
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\\x1b[2J\\x1b[31mall letters delivered\\x1b[0m\\x07" in shown


def test_the_preview_caches_only_the_campaigns_own_languages(tmp_path: Path) -> None:
    import itertools
    import string
    import urllib.request

    from chromium import serving

    campaign = make_campaign(tmp_path / "c", [office(1), office(2)], languages=("de",))
    codes = ("".join(p) for p in itertools.product(string.ascii_lowercase, repeat=3))
    with serving(campaign) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for code, n in zip(codes, range(300), strict=False):
            path = "/api/letters" if n % 2 else "/letter/r1.html"
            with urllib.request.urlopen(f"{base}{path}?lang={code}-x{n}", timeout=30) as page:
                assert page.status == 200
        with urllib.request.urlopen(f"{base}/api/letters?lang=de", timeout=30) as page:
            assert json.loads(page.read())["language"] == "de"  # a language it has: kept
        snap = server.workspace.snapshot
        # 300 distinct values asked for; cached: the policy, and German.
        assert set(snap.composers) <= {"", "de"}
        assert set(snap.listings) <= {"", "de"} and set(snap.listing_locks) <= {"", "de"}


def test_workers_making_the_key_at_once_all_get_the_same_whole_key(tmp_path: Path) -> None:
    # Found by .ci/run: two pool workers made the key together, one read it empty, and
    # its letter's seal did not match on the next run (rendered again, "not from here").
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from advocacy.render.seal import _key; "
        "sys.stdout.write(_key(Path(sys.argv[1])).hex())"
    )
    for attempt in range(12):
        path = tmp_path / f"state{attempt}" / "advocacy" / "manifest.key"
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE)
            for _ in range(8)
        ]
        keys = {proc.communicate()[0] for proc in procs}
        assert len(keys) == 1 and len(bytes.fromhex(keys.pop().decode())) == 32
        assert [p.name for p in path.parent.iterdir()] == ["manifest.key"]  # no temp left
