"""The preview page beside an editor: 1440, 800 and 390 px wide in real headless Chromium.

At every width: no sideways scroll, the whole width of the letter's page in
view at its paper's proportions, "Open PDF" clear of the title, and axe-core
finds nothing, on the page and on the letter with its overlay. The recipient
list is one tab stop that the arrow keys move through; "100%" shows true size.

One server (the bundled templates, the three partner recipients: US Letter
and A4) and one browser for the module; the tests only read the campaign.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from advocacy.preview.server import PreviewServer
from chromium import ARTIFACTS, WAIT_MS, axe_violations, launch, serving
from conftest import REPO, build_file_tree, bundled_toml

WIDTHS = {1440: 900, 800: 900, 390: 844}  # viewport width -> height
NARROW = 700  # below it the list folds away (app.css)
PX_PER_MM = 96 / 25.4
PAPER = {"Letter": (8.5 * 96, 11 * 96), "A4": (210 * PX_PER_MM, 297 * PX_PER_MM)}
LETTERS = {"us-dos": "Letter", "gb-fcdo": "A4"}  # recipient -> paper
IDS = ["us-dos", "ca-gac", "gb-fcdo"]  # recipients/partners.yaml, in order
GUTTER = 12  # px of desk each side of a fitted sheet (app.js)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewServer]:
    root = tmp_path_factory.mktemp("layout") / "campaign"
    for folder in ("templates", "locales"):
        shutil.copytree(REPO / folder, root / folder)
    build_file_tree(
        root,
        {
            "campaign.toml": bundled_toml(),
            "recipients/partners.yaml": (REPO / "recipients" / "partners.yaml").read_text("utf-8"),
        },
    )
    with serving(root) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def new_page(browser: Browser, width: int) -> tuple[Page, list[str]]:
    """A page at `width` and the script errors it logs (none are allowed)."""
    page = browser.new_page(viewport={"width": width, "height": WIDTHS[width]})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def shown(page: Page, recipient: str) -> None:
    """Wait until the frame holds `recipient`'s letter, loaded (and so fitted: app.js
    fits the sheet in the frame's load handler, which runs in the same task)."""
    page.wait_for_function(
        """(id) => {
            const frame = document.getElementById('letter-frame');
            const doc = frame.contentDocument;
            return !frame.hidden && !!doc && doc.readyState === 'complete'
                && doc.location.pathname === `/letter/${id}.html`
                && !!doc.querySelector('.pv-page');
        }""",
        arg=recipient,
        polling="raf",
        timeout=WAIT_MS,
    )


def measure(page: Page) -> dict[str, Any]:
    """Boxes in the page's own coordinates (the frame's offset added to the sheet's)."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const box = (node) => {
                const r = node.getBoundingClientRect();
                return { left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                         width: r.width, height: r.height };
            };
            const frame = document.getElementById('letter-frame');
            const doc = frame.contentDocument;
            const at = frame.getBoundingClientRect();
            const sheet = box(doc.querySelector('.pv-page'));
            for (const side of ['left', 'right']) sheet[side] += at.left + frame.clientLeft;
            return {
                scrollWidth: document.scrollingElement.scrollWidth,
                innerWidth: window.innerWidth,
                frame: box(frame),
                frameRoom: doc.documentElement.clientWidth,
                frameScrollWidth: doc.documentElement.scrollWidth,
                page: sheet,
                title: box(document.getElementById('letter-title')),
                pdf: box(document.getElementById('pdf-link')),
            };
        }"""
    )
    return result


def organisations(server: PreviewServer) -> dict[str, str]:
    """Each recipient's name as the page lists it (the server's own answer)."""
    return {entry["id"]: entry["organisation"] for entry in server.workspace.listing("")["letters"]}


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def no_violations(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core on {where}: {violations}"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_page_fits_its_width(browser: Browser, server: PreviewServer, width: int) -> None:
    page, page_errors = new_page(browser, width)
    asked: list[str] = []  # the letters' URLs, as the frame asked for them
    page.on("request", lambda r: asked.append(r.url) if "/letter/" in r.url else None)
    for recipient, paper in LETTERS.items():
        page.goto(f"{server.url}#to={recipient}")
        page.reload()  # a new hash alone is no new page
        shown(page, recipient)
        expect(page.locator("#letter-title")).to_have_text(organisations(server)[recipient])
        box = measure(page)
        # Nothing scrolls sideways: not the page, and not the letter's frame.
        assert box["scrollWidth"] <= box["innerWidth"], box
        assert box["frameScrollWidth"] <= box["frameRoom"], box
        # The whole width of the page of paper is in view, in its true proportions.
        sheet = box["page"]
        assert sheet["left"] >= 0 and sheet["right"] <= width, (recipient, sheet)
        true_width, true_height = PAPER[paper]
        assert sheet["width"] / sheet["height"] == pytest.approx(
            true_width / true_height, abs=0.003
        ), (recipient, sheet)
        if box["frameRoom"] >= true_width + 2 * GUTTER:
            assert sheet["width"] == pytest.approx(true_width, abs=1)  # true size when it fits
        else:  # scaled to the pane, not to some smaller size
            assert sheet["width"] == pytest.approx(box["frameRoom"] - 2 * GUTTER, abs=2)
        # The server drew it at that scale already: no full-size flash before the fit.
        query = parse_qs(urlsplit(asked[-1]).query)
        assert urlsplit(asked[-1]).path == f"/letter/{recipient}.html"
        zoom = float(query["zoom"][0]) if "zoom" in query else 1.0
        assert zoom == pytest.approx(sheet["width"] / true_width, abs=0.01), asked[-1]
        # The heading is a line of text, not a column of words, and "Open PDF" is clear of it.
        assert box["title"]["width"] >= min(250, width - 100), box["title"]
        assert not overlaps(box["title"], box["pdf"]), (box["title"], box["pdf"])
        assert box["pdf"]["left"] >= 0 and box["pdf"]["right"] <= width, box["pdf"]
        no_violations(page, f"the page at {width} px ({recipient})")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"preview-{width}-{recipient}.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")

    # The letter itself, overlay labels included (its frame runs no script, so
    # axe-core checks the same document opened on its own at this width).
    letter, _ = new_page(browser, width)  # (on its own it asks for a favicon: 404)
    for recipient in LETTERS:
        letter.goto(f"{server.url}letter/{recipient}.html")
        expect(letter.locator(".pv-overlay .pv-label").first).to_be_attached()
        no_violations(letter, f"the letter {recipient} with its overlay at {width} px")
    letter.close()
    assert page_errors == []
    page.close()


def test_narrow_page_folds_the_list_into_a_panel(browser: Browser, server: PreviewServer) -> None:
    page, page_errors = new_page(browser, 390)
    page.goto(f"{server.url}#to=us-dos")
    shown(page, "us-dos")
    toggle = page.locator("#list-toggle")
    letters = page.locator("#letters")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text("3 letters")
    expect(letters).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(letters).to_be_visible()
    expect(letters).to_be_focused()
    box = measure(page)
    assert box["scrollWidth"] <= box["innerWidth"], box
    no_violations(page, "the page at 390 px with the list open")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-390-list-open.png"))
    # Picking a letter folds the list away again and shows that letter.
    page.locator('#letters li[data-id="gb-fcdo"]').click()
    shown(page, "gb-fcdo")
    expect(letters).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#letter-title")).to_have_text(organisations(server)["gb-fcdo"])
    # Wide screens never fold it.
    page.set_viewport_size({"width": 800, "height": 900})
    expect(toggle).to_be_hidden()
    expect(letters).to_be_visible()
    assert page_errors == []
    page.close()


def test_recipient_list_is_one_tab_stop_moved_by_arrow_keys(
    browser: Browser, server: PreviewServer
) -> None:
    page, page_errors = new_page(browser, 1440)
    page.goto(f"{server.url}#to=us-dos")
    shown(page, "us-dos")
    letters = page.locator("#letters")
    expect(letters.locator("li")).to_have_count(len(IDS))
    # Tab from the search field lands on the list, and the next Tab leaves it.
    page.locator("#filter-text").focus()
    page.keyboard.press("Tab")
    expect(letters).to_be_focused()
    expect(letters).to_have_attribute("role", "listbox")
    expect(letters).to_have_attribute("aria-activedescendant", "letter-option-us-dos")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#letters') === null")
    page.keyboard.press("Shift+Tab")
    expect(letters).to_be_focused()
    # No option is a tab stop of its own.
    tab_stops = letters.locator("li").evaluate_all("items => items.map((li) => li.tabIndex)")
    assert all(index < 0 for index in tab_stops), tab_stops

    names = organisations(server)
    assert list(names) == IDS

    def selected(recipient: str) -> None:
        organisation = names[recipient]
        option = page.locator(f'#letters li[data-id="{recipient}"]')
        expect(option).to_have_attribute("aria-selected", "true")
        expect(option).to_have_attribute("role", "option")
        expect(letters).to_have_attribute("aria-activedescendant", f"letter-option-{recipient}")
        expect(letters.locator('li[aria-selected="true"]')).to_have_count(1)
        shown(page, recipient)
        expect(page.locator("#letter-title")).to_have_text(organisation)
        recipient_block = page.frame_locator("#letter-frame").locator("address.recipient")
        expect(recipient_block).to_contain_text(organisation, ignore_case=True)
        expect(letters).to_be_focused()  # focus stays on the list while the letter changes
        assert f"to={recipient}" in page.url

    page.keyboard.press("ArrowDown")
    selected("ca-gac")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-1440-keyboard.png"))  # the focus ring
    page.keyboard.press("ArrowDown")
    selected("gb-fcdo")
    page.keyboard.press("ArrowDown")  # the last stays selected
    selected("gb-fcdo")
    page.keyboard.press("Home")
    selected("us-dos")
    page.keyboard.press("End")
    selected("gb-fcdo")
    page.keyboard.press("ArrowUp")
    selected("ca-gac")
    assert page_errors == []
    page.close()


def test_100_percent_shows_true_size(browser: Browser, server: PreviewServer) -> None:
    page, page_errors = new_page(browser, 800)
    page.goto(f"{server.url}#to=us-dos")
    shown(page, "us-dos")
    toggle = page.locator("#zoom-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    true_width = PAPER["Letter"][0]
    fitted = measure(page)["page"]["width"]
    assert fitted < true_width - 100
    expect(page.locator("#zoom-level")).to_have_text(f"fitted: {round(fitted / true_width * 100)}%")

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    box = measure(page)
    assert box["page"]["width"] == pytest.approx(true_width, abs=1)
    assert box["page"]["height"] == pytest.approx(PAPER["Letter"][1], abs=1)
    # The letter scrolls sideways in its frame; the page around it does not.
    assert box["frameScrollWidth"] > box["frameRoom"]
    assert box["scrollWidth"] <= box["innerWidth"]
    assert "size=100" in page.url
    no_violations(page, "the page at 800 px at true size")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-800-true-size.png"))

    # It stays at true size for the next letter (A4), and a reload keeps it (#size=100).
    page.locator('#letters li[data-id="gb-fcdo"]').click()
    shown(page, "gb-fcdo")
    assert measure(page)["page"]["width"] == pytest.approx(PAPER["A4"][0], abs=1)
    page.reload()
    shown(page, "gb-fcdo")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert measure(page)["page"]["width"] == pytest.approx(PAPER["A4"][0], abs=1)

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert measure(page)["page"]["width"] < PAPER["A4"][0] - 100
    assert page_errors == []
    page.close()


def _letter_html(server: PreviewServer, query: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", f"/letter/us-dos.html?{query}")
        response = connection.getresponse()
        assert response.status == 200
        return response.read().decode("utf-8")
    finally:
        connection.close()


def test_server_draws_the_sheet_at_the_asked_scale(server: PreviewServer) -> None:
    assert '<div class="pv-sheet" style="zoom: 0.5">' in _letter_html(server, "zoom=0.5")
    # True size, and anything that is no scale from 0.1 to 1, draws it unscaled.
    for query in ("", "zoom=1", "zoom=2", "zoom=0.01", "zoom=nan", "zoom=inf", 'zoom=0.5"x'):
        assert '<div class="pv-sheet">' in _letter_html(server, query), query
