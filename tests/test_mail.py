"""Email letters: `render --format eml|mbox`, read back with Python's email parser."""

from __future__ import annotations

import email
import hashlib
import json
import mailbox
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.model import load_campaign
from advocacy.errors import MailError
from advocacy.formats import mime as mail
from advocacy.formats.text import html_to_text
from advocacy.render.batch import RenderOptions, SilentReporter, render
from conftest import FIXED_DATE, MINI_RECIPIENTS, REPO, edit_file, replaced, run_cli
from mailserver import make_campaign, office


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _with_emails(campaign: Path, reply_to: bool = True) -> Path:
    """The mini campaign with email addresses, a German catalog and a Reply-To."""
    text = replaced(
        MINI_RECIPIENTS, "  tags: [eu, mfa]", "  email: poststelle@example.org\n  tags: [eu, mfa]"
    )
    text = replaced(text, "  tags: [partner]", "  email: Secretary@Example.ORG\n  tags: [partner]")
    (campaign / "recipients" / "list.yaml").write_text(text, encoding="utf-8")
    import shutil

    shutil.copytree(REPO / "locales" / "de", campaign / "locales" / "de")
    if reply_to:
        edit_file(
            campaign / "campaign.toml",
            'email = "letters@example.org"',
            'email = "letters@example.org"\nreply_to = "replies@example.org"',
        )
    return campaign


def test_eml_has_the_headers_both_parts_and_the_pdf(mini_campaign: Path, tmp_path: Path) -> None:
    campaign = _with_emails(mini_campaign)
    out = tmp_path / "out"
    result = run_cli("render", str(campaign), "--format", "eml", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    letters = {e["recipient"]: e for e in json.loads(result.stdout)["letters"]}
    assert sorted(p.name for p in out.glob("*.eml")) == ["de-mfa.de.eml", "us-dos.en.eml"]

    german = _read(out / "de-mfa.de.eml")
    raw_headers = (out / "de-mfa.de.eml").read_bytes().split(b"\r\n\r\n")[0]
    assert b"=?utf-8?" in raw_headers  # "Entschließung": RFC 2047
    assert raw_headers.isascii()
    assert str(german["From"]) == "Example Belarusian Diaspora Association <letters@example.org>"
    assert str(german["To"]) == "Auswärtiges Amt <poststelle@example.org>"
    assert str(german["Reply-To"]) == "replies@example.org"
    assert "Entschließung" in str(german["Subject"])
    # The letter's subject, then its reference (so that a reply without headers matches).
    subject = letters["de-mfa"]["subject"].replace("\u00a0", " ")
    assert str(german["Subject"]) == f"{subject} [Ref. BY23-de-mfa]"
    assert email.utils.parsedate_to_datetime(str(german["Date"])) is not None
    assert str(german["Content-Language"]) == "de"
    assert str(german["Message-ID"]).endswith("@example.org>")

    english = _read(out / "us-dos.en.eml")
    (to,) = english["To"].addresses
    assert (to.display_name, to.addr_spec) == ("U.S. Department of State", "Secretary@example.org")
    assert str(english["Content-Language"]) == "en"
    assert english.get_content_type() == "multipart/mixed"
    alternative = next(english.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = english.get_body(("plain",)).get_content()
    html = english.get_body(("html",)).get_content()
    assert "Dear Secretary of State," in text and "1. Demand, at every opportunity" in text
    assert "<style" not in html and 'style="' in html  # the email stylesheet is inlined
    assert "Dear Secretary of State," in html

    attachments = list(english.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["us-dos.en.pdf"]
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF-")
    on_disk = (out / "us-dos.en.pdf").read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == hashlib.sha256(on_disk).hexdigest()
    files = {f["path"]: f for f in letters["us-dos"]["files"]}
    assert files["us-dos.en.pdf"]["sha256"] == hashlib.sha256(on_disk).hexdigest()
    assert (
        files["us-dos.en.eml"]["sha256"]
        == hashlib.sha256((out / "us-dos.en.eml").read_bytes()).hexdigest()
    )


def _render(campaign: Path, out: Path, **options: object) -> SilentReporter:
    reporter = SilentReporter()
    formats = options.pop("formats", ["eml"])
    render(
        open_campaign(campaign),
        RenderOptions(
            out=out,
            formats=formats,  # type: ignore[arg-type]
            today=FIXED_DATE,
            jobs=1,
            attach_pdf=False,
            **options,  # type: ignore[arg-type]
        ),
        reporter,
    )
    return reporter


def test_mbox_without_pdf_holds_every_letter(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path / "c", [office(1), office(2), office(3)])
    out = tmp_path / "out"
    result = run_cli(
        "render", str(campaign), "--format", "mbox", "--no-attach-pdf", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert not list(out.glob("*.pdf"))
    box = mailbox.mbox(out / "letters.mbox")
    messages = [email.message_from_bytes(m.as_bytes(), policy=default) for m in box]
    assert sorted(str(m["To"]) for m in messages) == [
        f"Office {n} <r{n}@example.org>" for n in (1, 2, 3)
    ]
    for message in messages:
        assert isinstance(message, EmailMessage)
        assert message.get_content_type() == "multipart/alternative"
        assert not list(message.iter_attachments())
        # "Dear Sir or Madam," closes "Yours faithfully," in British and Irish usage.
        assert "Yours faithfully," in message.get_body(("plain",)).get_content()


def test_message_id_is_stable_and_follows_the_content(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path / "c", [office(1), office(2)])
    _render(campaign, tmp_path / "a")
    _render(campaign, tmp_path / "b")

    def ids(folder: Path) -> dict[str, str]:
        return {p.name: str(_read(p)["Message-ID"]) for p in sorted(folder.glob("*.eml"))}

    first, second = ids(tmp_path / "a"), ids(tmp_path / "b")
    assert first == second and len(set(first.values())) == 2
    # Another text for r2 only: r2 gets a new id, r1 keeps its own.
    listing = campaign / "recipients" / "list.yaml"
    edit_file(listing, "Office 2", "Office Two")
    _render(campaign, tmp_path / "a")
    third = ids(tmp_path / "a")
    assert third["r1.en.eml"] == first["r1.en.eml"]
    assert third["r2.en.eml"] != first["r2.en.eml"]


def test_recipient_without_email_is_reported_not_dropped(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path / "c", [office(1), office(2, email="")])
    reporter = _render(campaign, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").glob("*.eml")] == ["r1.en.eml"]
    assert any("no email address" in w and "r2" in w for w in reporter.warnings)


def test_bad_address_or_line_break_stops_only_that_letter(tmp_path: Path) -> None:
    campaign = make_campaign(
        tmp_path / "c",
        [
            office(1),
            office(2, email="not an address"),
            office(3, organisation="Office 3\nBcc: everyone@example.org"),
            office(4, email="r4@example"),
        ],
    )
    out = tmp_path / "out"
    result = run_cli(
        "render", str(campaign), "--format", "eml", "--no-attach-pdf", "--out", str(out)
    )
    assert result.returncode == 2
    assert sorted(p.name for p in out.glob("*.eml")) == ["r1.en.eml"]
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 3
    assert any("'r2'" in line and "not a valid email address" in line for line in failed)
    assert any("'r3'" in line and "line break" in line for line in failed)
    assert any("'r4'" in line and "not a valid email address" in line for line in failed)
    assert "everyone@example.org" not in (out / "r1.en.eml").read_text()


def test_sender_and_from_are_checked(tmp_path: Path) -> None:
    campaign = load_campaign(make_campaign(tmp_path / "c", [office(1)]))
    assert str(mail.sender_address(campaign, "Jane <jane@example.org>")) == (
        "Jane <jane@example.org>"
    )
    with pytest.raises(MailError, match="line break"):
        mail.sender_address(campaign, "jane@example.org\r\nBcc: x@example.org")
    with pytest.raises(MailError, match="not a valid email address"):
        mail.sender_address(campaign, "jane@")
    campaign.config.sender.email = ""
    with pytest.raises(MailError, match=r"sender\.email"):
        mail.sender_address(campaign)
    broken = make_campaign(
        tmp_path / "d", [office(1)], toml=lambda t: replaced(t, "letters@example.org", "letters@")
    )
    result = run_cli("render", str(broken), "--format", "eml", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "sender.email" in result.stderr and not (tmp_path / "o").exists()


def test_html_to_text_keeps_paragraphs_lists_and_lines() -> None:
    html = (
        "<html><head><style>p{}</style><title>T</title></head><body>"
        '<div class="mark" aria-hidden="true"></div>'
        '<address class="recipient"><span class="line">Office</span>'
        '<span class="line">Street&nbsp;1</span></address>'
        "<main><p>First   paragraph<br>second line</p><ol><li>one</li><li>two</li></ol>"
        '<p class="return-address">hidden</p><p>End.</p></main></body></html>'
    )
    assert html_to_text(html) == (
        "Office\nStreet 1\n\nFirst paragraph\nsecond line\n\n1. one\n\n2. two\n\nEnd.\n"
    )


def test_relay_note_strings_never_hold_back_a_letter() -> None:
    from advocacy.campaign.translations import extract_catalog, required_ids
    from advocacy.i18n import catalogs

    campaign = load_campaign(REPO)
    relay = {
        m.id
        for m in extract_catalog(campaign)
        if any(loc == "templates/relay.txt.j2" for loc, _ in m.locations)
    }
    assert "Dear friends at %(name)s," in relay
    assert not relay & required_ids(campaign)
    # The bundled catalogs lack the new strings, and are still complete for letters.
    german = catalogs.load_all(REPO, required_ids(campaign))["de"]
    assert german.complete and not relay & set(german.messages)


def test_signature_image_travels_inside_the_message(tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5"><path d="M0 0h9"/></svg>'

    def sign(toml: str) -> str:
        return replaced(
            toml,
            '# image = "signature.svg"\n# image_alt = "Signature of Name Surname"',
            'image = "signature.svg"\nimage_alt = "Signature of Name Surname"',
        )

    campaign = make_campaign(tmp_path / "c", [office(1)], toml=sign)
    (campaign / "signature.svg").write_bytes(svg)
    _render(campaign, tmp_path / "out")
    message = _read(tmp_path / "out" / "r1.en.eml")
    html_part = message.get_body(("html",))
    assert html_part.get_content_type() == "text/html"
    assert message.get_content_type() == "multipart/alternative"
    _, related = message.iter_parts()
    assert related.get_content_type() == "multipart/related"
    _, image = related.iter_parts()
    assert image.get_content_type() == "image/svg+xml" and image.get_content() == svg
    cid = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()


def test_from_override_renders_the_letters_again(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path / "c", [office(1)])
    out = tmp_path / "out"
    _render(campaign, out)
    first = _read(out / "r1.en.eml")
    assert first["From"].addresses[0].addr_spec == "letters@example.org"
    _render(campaign, out, mail_from="Jane Doe <jane@example.org>")
    second = _read(out / "r1.en.eml")
    assert str(second["From"]) == "Jane Doe <jane@example.org>"
    assert second["Message-ID"] != first["Message-ID"]
