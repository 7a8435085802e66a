"""`advocacy preview --serve`: the page in a real headless Chromium, and the server's limits.

Each test serves its own copy of the bundled campaign (edits never touch the
repository) on a free port of 127.0.0.1, in a thread of the test process.
Chromium is Debian's (`scripts/install.sh --test` installs it); Playwright
drives it and never downloads a browser of its own.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from advocacy.campaign.model import load_campaign
from advocacy.preview.server import PreviewServer
from chromium import ARTIFACTS, WAIT_MS, launch, serving
from conftest import FIXED_DATE, REPO, build_file_tree, bundled_toml, edit_file

# The bundled us-dos letter greets by the table of forms of address (protocol.toml).
US_SALUTATION = "Dear Mr. or Madam Secretary:"


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """A full copy of the bundled campaign (all recipients, catalogs) with a fixed date."""
    root = tmp_path / "campaign"
    root.mkdir()
    for folder in ("templates", "recipients", "locales"):
        shutil.copytree(REPO / folder, root / folder)
    return build_file_tree(root, {"campaign.toml": bundled_toml(FIXED_DATE)})


@pytest.fixture
def server(campaign: Path) -> Iterator[PreviewServer]:
    with serving(campaign, watched=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: PreviewServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    # No script error and no refused resource on the page; a letter that cannot
    # be composed answers 422, which Chromium logs too.
    assert [e for e in errors if "status of 422" not in e] == [], errors


def frame_text(page: Page, text: str, timeout: float = WAIT_MS) -> None:
    """Wait (checking every animation frame) until the letter's frame shows `text`."""
    page.wait_for_function(
        """(text) => {
            const doc = document.getElementById('letter-frame').contentDocument;
            return !!doc && !!doc.body && doc.body.innerText.includes(text);
        }""",
        arg=text,
        polling="raf",
        timeout=timeout,
    )


def open_letter(page: Page, server: PreviewServer, recipient: str) -> None:
    page.goto(server.url)
    page.locator(f'#letters li[data-id="{recipient}"]').click()
    expect(page.locator(f'#letters li[data-id="{recipient}"]')).to_have_attribute(
        "aria-selected", "true"
    )


def _edit(path: Path, old: str, new: str) -> None:
    edit_file(path, old, new)


# -- the page --------------------------------------------------------------------


def test_list_shows_every_recipient_and_a_click_shows_its_letter(
    page: Page, server: PreviewServer, campaign: Path
) -> None:
    page.goto(server.url)
    expected = [r.id for r in load_campaign(campaign).recipients]
    assert len(expected) >= 30  # the bundled lists: EU states, institutions, partners
    items = page.locator("#letters li")
    expect(items).to_have_count(len(expected), timeout=WAIT_MS)
    assert items.evaluate_all("els => els.map(e => e.dataset.id)") == expected

    # Warnings show in the list: Greece has no address; nobody is verified.
    greece = page.locator('#letters li[data-id="gr-mfa"]')
    expect(greece.locator(".badge", has_text="no address")).to_be_visible()
    expect(greece.locator(".badge", has_text="unverified")).to_be_visible()

    page.locator('#letters li[data-id="us-dos"]').click()
    frame_text(page, US_SALUTATION)
    frame_text(page, "2201 C Street NW")
    expect(page.locator("#letter-title")).to_have_text("U.S. Department of State")
    expect(page.locator("#letter-meta")).to_contain_text("Letter")
    expect(page.locator("#letter-warnings")).to_contain_text("not verified with the office")
    assert "to=us-dos" in page.url

    # Drawn at true size: 8.5 x 11 in for Letter (96 CSS px to the inch), the
    # No. 10 window 2.1875 in from the top, 0.6875 in from the left.
    sheet = page.frame_locator("#letter-frame").locator(".pv-sheet").bounding_box()
    window = page.frame_locator("#letter-frame").locator(".pv-window").bounding_box()
    assert sheet is not None and window is not None
    assert sheet["width"] == pytest.approx(8.5 * 96, abs=1)
    assert sheet["height"] >= 11 * 96 - 1
    assert window["x"] - sheet["x"] == pytest.approx(0.6875 * 96, abs=1)
    assert window["y"] - sheet["y"] == pytest.approx(2.1875 * 96, abs=1)
    # The address itself sits inside that window, as an envelope will show it.
    address = page.frame_locator("#letter-frame").locator("address.recipient").bounding_box()
    assert address is not None
    assert window["y"] - 1 <= address["y"] < window["y"] + window["height"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-letter.png"))

    page.locator('#letters li[data-id="de-mfa"]').click()
    frame_text(page, "Auswärtiges Amt")
    sheet = page.frame_locator("#letter-frame").locator(".pv-sheet").bounding_box()
    assert sheet is not None
    assert sheet["width"] == pytest.approx(210 / 25.4 * 96, abs=1)  # A4
    fold = page.frame_locator("#letter-frame").locator(".pv-fold-1").bounding_box()
    assert fold is not None
    assert fold["y"] - sheet["y"] == pytest.approx(105 / 25.4 * 96, abs=1)
    page.screenshot(path=str(ARTIFACTS / "preview.png"))


def test_filters_by_tag_and_country(page: Page, server: PreviewServer) -> None:
    page.goto(server.url)
    expect(page.locator("#letters li").first).to_be_visible(timeout=WAIT_MS)
    page.select_option("#filter-tag", "partner")
    ids = page.locator("#letters li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids == ["us-dos", "ca-gac", "gb-fcdo"]
    page.select_option("#filter-tag", "")
    page.select_option("#filter-country", "DE")
    expect(page.locator("#letters li")).to_have_count(1)
    expect(page.locator("#letters li")).to_have_attribute("data-id", "de-mfa")


def test_saved_template_reaches_the_page_by_itself(
    page: Page, server: PreviewServer, campaign: Path
) -> None:
    open_letter(page, server, "us-dos")
    frame_text(page, US_SALUTATION)
    page.evaluate("window.notReloaded = true")
    _edit(
        campaign / "templates" / "letter.html.j2",
        "{% block body %}",
        "{% block body %}\n<p>Freshly saved paragraph 4711.</p>",
    )
    frame_text(page, "Freshly saved paragraph 4711.")
    # The same letter is still selected and shown, and the test never reloaded the page.
    expect(page.locator('#letters li[data-id="us-dos"]')).to_have_attribute("aria-selected", "true")
    frame_text(page, US_SALUTATION)
    assert page.evaluate("window.notReloaded") is True


def test_broken_template_shows_its_error_until_fixed(
    page: Page, server: PreviewServer, campaign: Path
) -> None:
    open_letter(page, server, "de-mfa")
    frame_text(page, "Auswärtiges Amt")
    template = campaign / "templates" / "letter.html.j2"
    good = template.read_text(encoding="utf-8")
    lines = good.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "{% block body %}" in text)
    template.write_text(good.replace("{% block body %}", "{% block body %", 1), encoding="utf-8")
    errors = page.locator("#errors")
    expect(errors).to_be_visible(timeout=WAIT_MS)
    expect(errors).to_contain_text(f"templates/letter.html.j2:{line}")
    expect(errors).to_contain_text("template syntax error")
    expect(page.locator("#letter-frame")).to_be_hidden()

    template.write_text(good, encoding="utf-8")  # the server kept running: fix it
    expect(errors).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#letter-frame")).to_be_visible()
    frame_text(page, "Auswärtiges Amt")
    expect(page.locator('#letters li[data-id="de-mfa"]')).to_have_attribute("aria-selected", "true")


def test_error_in_one_letter_shows_on_that_letter(
    page: Page, server: PreviewServer, campaign: Path
) -> None:
    open_letter(page, server, "us-dos")
    frame_text(page, US_SALUTATION)
    template = campaign / "templates" / "letter.html.j2"
    line = template.read_text(encoding="utf-8").splitlines().index("{% block body %}") + 2
    _edit(
        template,
        "{% block body %}",
        '{% block body %}\n{% if recipient.id == "us-dos" %}{{ no_such_name }}{% endif %}',
    )
    failure = page.locator("#letter-error")
    expect(failure).to_contain_text(f"templates/letter.html.j2:{line}", timeout=WAIT_MS)
    expect(failure).to_contain_text("'no_such_name' is undefined (recipient 'us-dos')")
    expect(page.locator("#letter-frame")).to_be_hidden()
    expect(page.locator('#letters li[data-id="us-dos"] .badge.error')).to_be_visible()
    expect(page.locator("#errors")).to_contain_text("1 of")
    # Every other letter still composes.
    page.locator('#letters li[data-id="de-mfa"]').click()
    frame_text(page, "Auswärtiges Amt")
    expect(failure).to_be_hidden()


def test_broken_recipient_list_shows_its_error_until_fixed(
    page: Page, server: PreviewServer, campaign: Path
) -> None:
    open_letter(page, server, "us-dos")
    frame_text(page, US_SALUTATION)
    page.select_option("#filter-tag", "partner")
    recipients = campaign / "recipients" / "partners.yaml"
    good = recipients.read_text(encoding="utf-8")
    recipients.write_text(good + "\n- id: [unclosed\n", encoding="utf-8")
    errors = page.locator("#errors")
    expect(errors).to_contain_text("recipients/partners.yaml", timeout=WAIT_MS)
    expect(errors).to_contain_text("malformed YAML at line")

    expect(page.locator("#letters li")).to_have_count(0)

    recipients.write_text(good, encoding="utf-8")
    expect(errors).to_be_hidden(timeout=WAIT_MS)
    frame_text(page, US_SALUTATION)
    # The writer's filter and letter survive the error.
    expect(page.locator("#filter-tag")).to_have_value("partner")
    expect(page.locator("#letters li")).to_have_count(3)
    expect(page.locator('#letters li[data-id="us-dos"]')).to_have_attribute("aria-selected", "true")


def test_pdf_link_renders_that_letter(page: Page, server: PreviewServer) -> None:
    open_letter(page, server, "us-dos")
    link = page.locator("#pdf-link")
    expect(link).to_be_visible()
    assert link.get_attribute("target") == "_blank"
    response = page.request.get(server.url.rstrip("/") + str(link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF-")
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    assert round(float(reader.pages[0].mediabox.width)) == 612  # US Letter, 8.5 in
    assert US_SALUTATION in reader.pages[0].extract_text()


# -- the server's limits ---------------------------------------------------------


def _get(server: PreviewServer, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A raw request: http.client sends the path exactly as given (no `..` folding)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


TRAVERSALS = [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/..%5c..%5cetc%5cpasswd",
    "//etc/passwd",
    "/etc/passwd",
    "/campaign/../../../../etc/passwd",
    "/campaign/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/campaign/..%2F..%2F..%2Fetc%2Fpasswd",
    "/campaign/templates/../../campaign.toml",
    "/assets/../../../../../etc/passwd",
    "/assets/fonts/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/ui/..%2f..%2fcli.py",
    "/letter/..%2f..%2f..%2fetc%2fpasswd.html",
    "/letter/../../etc/passwd.html",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_outside_the_campaign_are_404(server: PreviewServer, path: str) -> None:
    status, body = _get(server, path)
    assert status == 404, (path, body[:200])
    assert b"root:" not in body


def test_only_the_letters_assets_are_served(server: PreviewServer, campaign: Path) -> None:
    assert _get(server, "/campaign/templates/letter.css")[0] == 200
    assert _get(server, "/assets/base.css")[0] == 200
    assert _get(server, "/assets/fonts/DejaVuSerif.ttf")[0] == 200
    assert _get(server, "/letter/us-dos.html")[0] == 200
    # Never the campaign's data, templates or anything else the folder holds.
    for path in (
        "/campaign/campaign.toml",
        "/campaign/recipients/partners.yaml",
        "/campaign/templates/letter.html.j2",
        "/campaign/locales/de/LC_MESSAGES/messages.po",
        "/campaign/.hidden.css",
        "/letter/no-such-recipient.html",
        "/ui/index.html.bak",
        "/assets/templates/base.html.j2",
    ):
        assert _get(server, path)[0] == 404, path
    # A stylesheet that is a symlink out of the campaign folder is refused too.
    outside = campaign.parent / "secret.css"
    outside.write_text("body { secret: 1 }")
    (campaign / "templates" / "link.css").symlink_to(outside)
    assert _get(server, "/campaign/templates/link.css")[0] == 404


def test_other_host_names_are_refused(server: PreviewServer) -> None:
    assert _get(server, "/", host=f"127.0.0.1:{server.port}")[0] == 200
    assert _get(server, "/", host=f"localhost:{server.port}")[0] == 200
    assert _get(server, "/", host=f"attacker.example:{server.port}")[0] == 403


def _listening_address(port: int) -> str | None:
    """The local address a socket listens on for `port`, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, hex_port = fields[1].split(":")
        if int(hex_port, 16) == port and fields[3] == "0A":  # LISTEN
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return None


def test_command_binds_to_localhost_and_stops_on_ctrl_c(campaign: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "advocacy", "preview", str(campaign), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        # A shell that starts the tests in the background ignores SIGINT, and
        # children inherit that: give the server the default handler back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"Previewing {campaign} at http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert _listening_address(port) == "127.0.0.1"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/letters")
        data = json.loads(connection.getresponse().read())
        connection.close()
        assert data["error"] is None and len(data["letters"]) >= 30
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert ("interrupted" in stderr or "aborted" in stderr) and "Traceback" not in stderr
