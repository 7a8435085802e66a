"""advocacy report (read in headless Chromium and from its PDF) and the follow-ups."""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pdfplumber
import pytest
from playwright.sync_api import sync_playwright

from chromium import launch
from conftest import run_cli
from mailserver import MailServer
from test_inbox import TODAY, _copy, _mails, day, send_five

Sent = tuple[Path, Path, dict[str, str]]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Sent:
    return send_five(tmp_path_factory.mktemp("report"))


def _answered(sent: Sent, tmp_path: Path) -> tuple[Path, Path]:
    """r1, r2 bounced; r3, r4 replied (read from an mbox); r5 delivered by hand."""
    campaign, _, ids = sent
    out = _copy(sent, tmp_path)
    box = mailbox.mbox(tmp_path / "in.mbox")
    ours, unrelated = _mails(ids)
    for data in ours + unrelated:
        box.add(data)
    box.close()
    read = run_cli("inbox", str(campaign), "--out", str(out), "--mbox", str(tmp_path / "in.mbox"))
    assert read.returncode == 0, read.stderr
    log = run_cli(
        "log", "delivered", "r5", "--campaign", str(campaign), "--out", str(out),
        "--on", day(3), "--how", "hand", env=TODAY,
    )  # fmt: skip
    assert log.returncode == 0, log.stderr
    return campaign, out


def test_report_shows_the_counts_in_a_browser_and_in_its_pdf(sent: Sent, tmp_path: Path) -> None:
    campaign, out = _answered(sent, tmp_path)
    result = run_cli("report", str(campaign), "--out", str(out), "--pdf", env=TODAY)
    assert result.returncode == 0, result.stderr
    html = (out / "report.html").read_text("utf-8")
    assert "http://" not in html and "https://" not in html  # nothing to fetch: opens offline
    assert "Thank you for your letter" not in html  # no reply text without --include-replies
    expected = {"bounced": 2, "replied": 2, "delivered": 1}

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.abort() if "file:" not in route.request.url else route.continue_()
                ),
            )
            page.goto((out / "report.html").as_uri())
            totals = page.eval_on_selector_all(
                "#totals tr",
                "rows => rows.map(r => [r.dataset.state, +r.querySelector('.count').textContent])",
            )
            states = dict(
                page.eval_on_selector_all(
                    "#recipients tbody tr", "rows => rows.map(r => [r.dataset.id, r.dataset.state])"
                )
            )
            chart_loaded = page.eval_on_selector(".chart img", "img => img.naturalWidth > 0")
        finally:
            browser.close()
    assert dict(totals) == expected
    assert states == {
        "r1": "bounced",
        "r2": "bounced",
        "r3": "replied",
        "r4": "replied",
        "r5": "delivered",
    }
    assert chart_loaded

    with pdfplumber.open(out / "report.pdf") as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    found = {
        state: int(n) for state, n in re.findall(r"^(bounced|replied|delivered) (\d+)$", text, re.M)
    }
    assert found == expected
    # r5, sent 49 days ago and delivered by hand, has had no answer.
    assert "No reply after 30 days (1)" in text and "r5 — Office 5: 49 days" in text


def test_include_replies_shows_the_reply_text(sent: Sent, tmp_path: Path) -> None:
    campaign, out = _answered(sent, tmp_path)
    result = run_cli("report", str(campaign), "--out", str(out), "--include-replies", env=TODAY)
    assert result.returncode == 0, result.stderr
    assert "Thank you for your letter" in (out / "report.html").read_text("utf-8")


def test_follow_ups_go_only_to_the_offices_without_a_reply_and_thread_to_the_first(
    sent: Sent, tmp_path: Path
) -> None:
    campaign, _, ids = sent
    out = _copy(sent, tmp_path)
    box = mailbox.mbox(tmp_path / "in.mbox")
    ours, _ = _mails(ids)
    for data in ours[2:]:  # the two replies (r3, r4), no bounce
        box.add(data)
    box.close()
    read = run_cli("inbox", str(campaign), "--out", str(out), "--mbox", str(tmp_path / "in.mbox"))
    assert read.returncode == 0, read.stderr

    early = run_cli(
        "render", str(campaign), "--out", str(out), "--follow-up", "--after", "30d",
        env={"ADVOCACY_TODAY": day(20)},
    )  # fmt: skip
    assert early.returncode == 2 and "no letter waits" in early.stderr, early.stderr

    made = run_cli(
        "render", str(campaign), "--out", str(out), "--follow-up", "--after", "30d",
        "--format", "eml", "--format", "pdf", "--no-attach-pdf", env=TODAY,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    follow_ups = out / "follow-up"
    emails = {p.name.split(".")[0]: p for p in follow_ups.glob("*.eml")}
    assert sorted(emails) == ["r1", "r2", "r5"]
    for rid, path in emails.items():
        msg = message_from_bytes(path.read_bytes(), policy=default)
        assert msg["In-Reply-To"] == ids[rid] and msg["References"] == ids[rid]
        assert str(msg["Subject"]).startswith("Follow-up: ")
        assert str(msg["Subject"]).endswith(f"[Ref. BY23-{rid}]")
    with pdfplumber.open(follow_ups / "r5.en.pdf") as pdf:
        text = " ".join((pdf.pages[0].extract_text() or "").split())
    first_day = dt.date.fromisoformat(day(0))
    assert f"On {first_day.day} {first_day:%B} {first_day.year} we wrote to you" in text
    assert "(our reference BY23-r5)" in text and "Ref. BY23-r5" in text
    written = dt.date.fromisoformat(day(49))  # dated the day it is written
    assert f"{written.day} {written:%B} {written.year}" in text

    server = MailServer().start()
    try:
        result = run_cli(
            "send", str(campaign), "--out", str(out), "--follow-up", "--smtp", server.url,
            "--no-attach-pdf", "--yes", "--no-dry-run", env=TODAY,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        received = {r.rcpt_tos[0].split("@")[0]: r.message for r in server.messages()}
    finally:
        server.stop()
    assert sorted(received) == ["r1", "r2", "r5"]
    assert all(received[rid]["In-Reply-To"] == ids[rid] for rid in received)
    status = run_cli("status", str(campaign), "--out", str(out), "--json")
    states = {row["id"]: row["state"] for row in json.loads(status.stdout)["letters"]}
    assert states == {
        "r1": "followed-up", "r2": "followed-up", "r3": "replied", "r4": "replied",
        "r5": "followed-up",
    }  # fmt: skip


def test_the_bundled_follow_up_is_written_in_the_recipients_language() -> None:
    import dataclasses

    from advocacy.campaign.discovery import open_campaign
    from advocacy.campaign.model import Thread
    from advocacy.campaign.translations import follow_up_template
    from advocacy.letter.compose import Composer
    from conftest import REPO

    campaign = open_campaign(REPO)
    _, name, _ = follow_up_template(campaign)
    settings = campaign.config.campaign.model_copy(update={"letter_template": name})
    threads = {"de-mfa": Thread(dt.date(2026, 12, 2), "<first@example.org>")}
    variant = dataclasses.replace(
        campaign,
        config=campaign.config.model_copy(update={"campaign": settings}),
        follow_ups=threads,
    )
    composer = Composer(variant, today=dt.date(2027, 1, 20))
    recipient = next(r for r in variant.recipients if r.id == "de-mfa")
    letter = composer.compose(recipient)
    assert letter.language == "de" and letter.in_reply_to == "<first@example.org>"
    assert letter.subject.startswith("Erinnerung: ")
    text = " ".join(re.sub(r"<[^>]+>", " ", letter.html).replace("\u00a0", " ").split())
    # After the German salutation's comma the body goes on in lower case.
    assert "am 2. Dezember 2026 haben wir uns im Namen von" in text
    assert "(unser Zeichen BY23-de-mfa)" in text and "Ref. BY23-de-mfa" in text
