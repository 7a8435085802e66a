"""advocacy report (read in headless Chromium and from its PDF) and the follow-ups."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

import pdfplumber
import pytest
from playwright.sync_api import sync_playwright

from chromium import launch
from conftest import run_cli
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
