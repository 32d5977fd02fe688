"""The colours Chromium computes on Luma's pages, in the dark and the light colour
scheme, on a desktop and a phone: every piece of text at least 4.5:1 against what is
behind it, every input's border (or the frame around it) at least 3:1, with named
checks of the colours issue 16 measured (white on the purple buttons and bubbles,
input borders, links, muted text). Contrast is WCAG 2.1's (Success Criteria 1.4.3 and
1.4.11; the formula is in luma/tests/test_contrast.py, which checks the stylesheet's
custom properties themselves)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveLuma, log_in
from luma.tests.test_contrast import contrast_ratio

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Colours as the page computes them, over what is behind them: text colour, the
# background each element shows (its own, or the first one below it, translucent
# layers blended), and every input's border against the background around it.
SWEEP = "\n".join(
    line
    for line in (Path(__file__).parent / "contrast_sweep.js").read_text().splitlines()
    if not line.startswith("//")
)


@pytest.fixture(autouse=True)
def no_suggestions_left(live_luma: LiveLuma) -> Iterator[None]:
    """The browser tests share one server: pending suggestions made here would show
    in other tests' counts."""
    yield
    live_luma.seed("suggestions_clear")


def colours(page: Page, selector: str) -> dict:
    """The text colour and background of the first element matching `selector`."""
    return page.locator(selector).first.evaluate(
        """(node) => {
          const hex = (css) => "#" + css.match(/\\d+(\\.\\d+)?/g).slice(0, 3)
            .map((v) => Number(v).toString(16).padStart(2, "0")).join("");
          const style = getComputedStyle(node);
          return {
            fg: hex(style.color), bg: hex(style.backgroundColor), border: hex(style.borderTopColor),
          };
        }"""
    )


def failures(page: Page, what: str) -> list[str]:
    found = page.evaluate(SWEEP)
    bad = [
        f"{what}: text {t['where']} {t['text']!r} {t['fg']} on {t['bg']} is "
        f"{contrast_ratio(t['fg'], t['bg']):.2f}:1"
        for t in found["texts"]
        if contrast_ratio(t["fg"], t["bg"]) < 4.5
    ]
    bad += [
        f"{what}: border of {b['where']} {b['fg']} on {b['bg']}"
        + ("" if b["fg"] == "none" else f" is {contrast_ratio(b['fg'], b['bg']):.2f}:1")
        for b in found["borders"]
        if b["fg"] == "none" or contrast_ratio(b["fg"], b["bg"]) < 3
    ]
    assert found["texts"], f"{what}: no text found"
    return bad


@pytest.fixture
def owner_page(browser: Browser, live_luma: LiveLuma, request) -> Iterator[Page]:
    scheme, viewport = request.param
    context = browser.new_context(base_url=live_luma.url, viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    log_in(page, "streamer", "pw-streamer-123")
    yield page
    context.close()


CASES = [(scheme, viewport) for scheme in ("dark", "light") for viewport in (DESKTOP, PHONE)]
IDS = [f"{scheme}-{'phone' if viewport is PHONE else 'desktop'}" for scheme, viewport in CASES]


@pytest.mark.parametrize("owner_page", CASES, ids=IDS, indirect=True)
def test_every_text_and_input_border_has_enough_contrast_on_every_page(owner_page, live_luma):
    page = owner_page
    live_luma.seed("settings", memory_suggestions_enabled=True)
    live_luma.seed("suggestion", content="Contrast: the community plays Minecraft on Sundays.")
    page.reload()
    page.wait_for_load_state("networkidle")
    page.locator("#new-chat").dispatch_event("click")  # hidden in the list on a phone
    page.get_by_role("textbox", name="Message").fill("Contrast check, please answer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.assistant").last).to_contain_text("Hello from the fake model.")
    problems = failures(page, "chat")
    toggle = page.locator("#toggle-suggestions")
    if toggle.is_visible():
        toggle.click()
    problems += failures(page, "chat's suggestions")
    if page.locator(".menu-toggle").is_visible():
        page.locator(".menu-toggle").click()
        problems += failures(page, "the open menu")
    for address in ("/memory/", "/documents/", "/usage/", "/settings/", "/no-such-page/"):
        page.goto(address)
        page.wait_for_load_state("networkidle")
        if address == "/memory/":
            page.get_by_role("button", name="+ Add a memory").click()
        problems += failures(page, address)
    assert problems == []


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_login_page_has_enough_contrast(browser, live_luma, scheme):
    context = browser.new_context(base_url=live_luma.url, viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert failures(page, "login") == []
    context.close()


@pytest.mark.parametrize("owner_page", CASES, ids=IDS, indirect=True)
def test_the_colours_issue_16_measured_are_fixed(owner_page):
    """White on the purple buttons and the user's bubbles was 4.25:1, input borders
    1.3:1: each named here in both schemes."""
    page = owner_page
    page.wait_for_load_state("networkidle")
    page.locator("#new-chat").dispatch_event("click")  # hidden in the list on a phone
    page.get_by_role("textbox", name="Message").fill("Contrast bubble")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.assistant").last).to_contain_text("Hello from the fake model.")
    send = colours(page, "#send")
    assert contrast_ratio(send["fg"], send["bg"]) >= 4.5
    bubble = colours(page, ".message.user")
    assert contrast_ratio(bubble["fg"], bubble["bg"]) >= 4.5
    page.goto("/memory/")
    search, card = colours(page, "#q"), colours(page, "#q >> xpath=ancestor::section[1]")
    assert contrast_ratio(search["border"], card["bg"]) >= 3
    assert contrast_ratio(search["border"], search["bg"]) >= 3
    muted, link = (
        colours(page, "#memories-heading ~ p.muted, #result-summary"),
        colours(page, ".topbar .brand"),
    )
    body = colours(page, "body")
    assert contrast_ratio(muted["fg"], card["bg"]) >= 4.5
    assert contrast_ratio(link["fg"], colours(page, ".topbar")["bg"]) >= 4.5
    assert contrast_ratio(body["fg"], body["bg"]) >= 4.5
    # The two schemes really differ: the light one is light.
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert (contrast_ratio(body["bg"], "#000000") > 10) != dark
