"""Every page on a phone (390 px wide) and a desktop, as every role: nothing wider than
the screen, one h1, every navigation link reachable (by touch and by keyboard), no
failed request or script error, the favicon; the chat's suggestions reachable without
scrolling past the chat, a compact demo notice, a streamed reply that a screen reader
hears once; and the page bugs of issue 16 (buttons left visible while editing, an
approval taking the unedited text, "about user:1", dates changing format after a
live update, a chat upload's line gone after a reload)."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveLuma, log_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
OWNER = ("streamer", "pw-streamer-123")

# Each role's navigation, at least (other pages may add links).
NAV = {
    "viewer": ["Chat", "Memory", "Documents", "Usage"],
    "moderator": ["Chat", "Memory", "Documents", "Usage", "Admin"],
    "owner": ["Chat", "Memory", "Documents", "Usage", "Settings", "Admin"],
}


@pytest.fixture(autouse=True)
def no_suggestions_left(live_luma: LiveLuma) -> Iterator[None]:
    """The browser tests share one server: pending suggestions made here would show
    in other tests' counts."""
    yield
    live_luma.seed("suggestions_clear")


class Watch:
    """Failed requests (4xx/5xx), console errors and script errors of one page; the
    page's own address may answer 403 or 404 when that is what is tested."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        self.expected_status: dict[str, int] = {}
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _response(self, response: Any) -> None:
        if response.status < 400:
            return
        if self.expected_status.get(response.url) == response.status:
            return
        self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _console(self, message: Any) -> None:
        # A failed load is also a response, reported above (expected ones aside).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")


def open_page(
    browser: Browser, live_luma: LiveLuma, viewport: dict, who: str | None, **role: bool
) -> tuple[Page, Watch]:
    """A new browser session with this viewport, logged in as `who` (a new account of
    this role; the owner is the tests' staff account), or anonymous."""
    page = browser.new_context(base_url=live_luma.url, viewport=viewport).new_page()
    watch = Watch(page)
    if who == OWNER[0]:
        log_in(page, *OWNER)
    elif who is not None:
        password = f"pw-{who}-123"
        live_luma.seed("user", username=who, password=password, **role)
        log_in(page, who, password)
    return page, watch


@pytest.fixture
def sessions(browser: Browser, live_luma: LiveLuma) -> Iterator[list[Page]]:
    pages: list[Page] = []
    yield pages
    for page in pages:
        page.context.close()


LAYOUT = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (node) => {
    for (let up = node.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter((node) => {
    const box = node.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 1 || box.left < -1) && !clipped(node);
  }).slice(0, 5).map((node) => node.outerHTML.slice(0, 160));
  // Controls a screen reader could only call "button" (SillyTavern#2694, open-webui#4577).
  const nameless = [...document.querySelectorAll("button, a[href], input, select, textarea")]
    .filter((node) => node.type !== "hidden" && !node.hidden && node.getClientRects().length)
    .filter((node) => !(node.getAttribute("aria-label") || node.textContent.trim() || node.title
      || (node.labels && node.labels.length) || node.getAttribute("aria-labelledby")))
    .map((node) => node.outerHTML.slice(0, 120));
  return {
    overflow: document.documentElement.scrollWidth - width,
    wide,
    nameless,
    h1: [...document.querySelectorAll("h1")].map((h) => h.textContent.trim()),
  };
}"""


def check_layout(page: Page, what: str) -> None:
    layout = page.evaluate(LAYOUT)
    assert layout["overflow"] <= 0, (
        f"{what}: {layout['overflow']}px wider than the screen: {layout['wide']}"
    )
    assert layout["wide"] == [], f"{what}: elements past the screen's edge: {layout['wide']}"
    assert len(layout["h1"]) == 1, f"{what}: h1s {layout['h1']}"
    assert layout["nameless"] == [], f"{what}: controls without a name: {layout['nameless']}"


def open_menu(page: Page) -> None:
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")


def nav_links(page: Page, role: str) -> list[str]:
    """Opens the menu when there is one; every link of the role is visible, inside
    the screen; returns the links' addresses (the admin's aside)."""
    open_menu(page)
    nav = page.get_by_role("navigation", name="Main")
    width = page.viewport_size["width"]
    for name in NAV[role]:
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            f"{name} is cut off: {box}"
        )
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    hrefs = nav.get_by_role("link").evaluate_all(
        "(links) => links.map((a) => a.getAttribute('href'))"
    )
    return [href for href in hrefs if not href.startswith("/admin/")]


def a_document(page: Page, name: str) -> int:
    """Uploads a small text file through the API (as the page's account): its id."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        "/api/documents",
        multipart={
            "file": {"name": name, "mimeType": "text/plain", "buffer": b"Raid at 9pm on Fridays."}
        },
        headers={"X-CSRFToken": token},
    )
    assert answer.ok, answer.text()
    return answer.json()["id"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize(
    ("role", "who", "flags"),
    [
        ("viewer", "screen-viewer", {}),
        ("moderator", "screen-mod", {"moderator": True}),
        ("owner", OWNER[0], {}),
    ],
)
def test_every_page_fits_the_screen_has_one_h1_and_every_link(
    browser, live_luma, sessions, viewport, role, who, flags
):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    page, watch = open_page(browser, live_luma, viewport, who, **flags)
    sessions.append(page)
    addresses = nav_links(page, role)
    extra = ["/no-such-page/"]
    if role == "viewer":
        extra.append("/settings/")
    else:
        name = f"screen-{role}-{viewport['width']}.txt"
        extra.append(f"/documents/{a_document(page, name)}/")
    for address in [*addresses, *extra]:
        url = live_luma.url + address
        if address == "/no-such-page/":
            watch.expected_status[url] = 404
        if address == "/settings/" and role == "viewer":
            watch.expected_status[url] = 403
        page.goto(address)
        page.wait_for_load_state("networkidle")
        check_layout(page, f"{role} {address} at {viewport['width']}px")
        nav_links(page, role)
    assert watch.problems == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_login_page_fits_has_one_h1_and_no_failed_request(
    browser, live_luma, sessions, viewport
):
    page, watch = open_page(browser, live_luma, viewport, None)
    sessions.append(page)
    page.goto("/accounts/login/")
    page.wait_for_load_state("networkidle")
    check_layout(page, "login")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check_layout(page, "login refused")
    assert watch.problems == []


@pytest.mark.parametrize("width", [320, 768, 870, 1024])
def test_the_owners_pages_fit_the_widths_between_phone_and_desktop(
    browser, live_luma, sessions, width
):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    page, watch = open_page(browser, live_luma, {"width": width, "height": 700}, OWNER[0])
    sessions.append(page)
    for address in ("/", "/memory/", "/documents/", "/usage/", "/settings/"):
        page.goto(address)
        page.wait_for_load_state("networkidle")
        check_layout(page, f"{address} at {width}px")
        nav_links(page, "owner")
    assert watch.problems == []


def test_the_favicon_is_served_and_linked_on_every_page(page: Page, live_luma):
    page.goto("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in icon.text()
    # Pages without the link (the admin's) make browsers ask for /favicon.ico.
    fallback = page.request.get("/favicon.ico")
    assert fallback.status == 200 and "<svg" in fallback.text()


def test_the_phone_menu_works_by_keyboard(browser, live_luma, sessions):
    page, _ = open_page(browser, live_luma, PHONE, OWNER[0])
    sessions.append(page)
    page.goto("/usage/")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Settings")).to_be_hidden()
    for _ in range(5):  # the brand link comes first
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('menu-toggle')"):
            break
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Chat")).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(nav.get_by_role("link", name="Chat")).to_be_hidden()
    toggle.click()
    nav.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/$"))


def test_on_a_phone_the_suggestions_open_without_scrolling_past_the_chat(
    browser, live_luma, sessions
):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    live_luma.seed("suggestion", content="Screen test: Kai streams on Tuesdays.")
    page, watch = open_page(browser, live_luma, PHONE, OWNER[0])
    sessions.append(page)
    page.goto("/")
    panel = page.locator("#suggestions-panel")
    expect(panel).to_be_hidden()
    toggle = page.get_by_role("button", name=re.compile(r"^Suggestions"))
    box = toggle.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], "the button is below the screen"
    toggle.click()
    card = panel.locator("li", has_text="Screen test: Kai streams on Tuesdays.")
    expect(card.get_by_role("button", name="Approve")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0
    check_layout(page, "chat with the suggestions open")
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    assert watch.problems == []


def test_on_a_phone_the_conversations_close_again_by_button_or_esc(browser, live_luma, sessions):
    page, watch = open_page(browser, live_luma, PHONE, OWNER[0])
    sessions.append(page)
    page.wait_for_load_state("networkidle")  # the last conversation is open (that closes the list)
    chats = page.get_by_role("button", name="Chats")
    sidebar = page.get_by_role("complementary", name="Conversations")
    chats.click()
    expect(sidebar.get_by_role("button", name="+ New chat")).to_be_in_viewport()
    sidebar.get_by_role("button", name="Close").click()
    expect(sidebar).to_be_hidden()
    expect(chats).to_be_focused()
    expect(chats).to_have_attribute("aria-expanded", "false")
    chats.click()
    sidebar.get_by_role("button", name="+ New chat").focus()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    assert watch.problems == []


def test_the_demo_notice_is_one_line_that_opens_for_more(browser, live_luma, sessions):
    live_luma.seed("settings", provider="builtin")
    page, _ = open_page(browser, live_luma, PHONE, OWNER[0])
    sessions.append(page)
    page.goto("/")
    notice = page.locator(".demo-notice")
    expect(notice).to_contain_text("Demo model")
    closed = notice.bounding_box()
    assert closed and closed["height"] < 48, f"the notice takes {closed['height']}px"
    notice.locator("summary").click()
    expect(notice.get_by_role("link", name="Settings")).to_be_visible()


def test_a_streamed_reply_is_announced_once_when_it_is_finished(page: Page, fake_openai):
    fake_openai.behaviour.reply = "One two three four five six seven eight nine ten."
    fake_openai.behaviour.chunk_delay = 0.15
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="+ New chat").click()
    messages = page.locator("#messages")
    live = "[aria-live]:not([aria-live=off]), [role=log], [role=status], [role=alert]"
    page.get_by_role("textbox", name="Message").fill("Count to ten, screen test")
    page.get_by_role("button", name="Send").click()
    expect(messages).to_have_attribute("aria-busy", "true")
    streaming = page.locator(".message.assistant.streaming")
    expect(streaming).to_contain_text("One two")
    # The streaming text is in no live region: nothing reads it token by token.
    assert streaming.evaluate(f"(node) => node.closest({live!r}) === null")
    assert messages.evaluate(f"(node) => node.querySelector({live!r}) === null")
    expect(messages).to_have_attribute("aria-busy", "false", timeout=15_000)
    expect(page.locator("#chat-status")).to_have_text("Reply finished.")
    expect(page.locator("#chat-status")).to_have_attribute("role", "status")


# ---- the bugs ------------------------------------------------------------------------


def suggestion_card(page: Page, text: str):
    return page.locator("#suggestion-list > li", has_text=text)


def test_editing_a_suggestion_hides_its_buttons_and_approving_takes_the_edit(page: Page, live_luma):
    live_luma.seed("suggestions_clear")
    first = live_luma.seed("suggestion", content="Screen edit: the mascot is a fox.")
    page.goto("/memory/")
    card = page.locator(f'#suggestion-list > li[data-id="{first["id"]}"]')
    card.get_by_role("button", name="Edit").click()
    for name in ("Approve", "Edit", "Reject"):
        expect(card.get_by_role("button", name=name, exact=True)).to_be_hidden()
    card.get_by_role("textbox", name="Memory text").fill("Screen edit: the mascot is a red panda.")
    # Approving the selected card while its edit is open approves what the form says.
    card.locator(".pick").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(card).to_have_count(0)
    assert live_luma.seed("memory_get", memory_id=first["id"]) == {
        "exists": True,
        "status": "approved",
        "content": "Screen edit: the mascot is a red panda.",
    }


def test_a_bulk_approval_with_an_open_edit_among_others_decides_nothing(page: Page, live_luma):
    live_luma.seed("suggestions_clear")
    edited = live_luma.seed("suggestion", content="Screen bulk: the raid train is on Friday.")
    other = live_luma.seed("suggestion", content="Screen bulk: the subathon is in March.")
    page.goto("/memory/")
    card = page.locator(f'#suggestion-list > li[data-id="{edited["id"]}"]')
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Memory text").fill(
        "Screen bulk: the raid train is on Saturday."
    )
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#suggestions-error")).to_contain_text("save or cancel its edit first")
    for made in (edited, other):
        assert live_luma.seed("memory_get", memory_id=made["id"])["status"] == "pending"
    expect(card.get_by_role("textbox", name="Memory text")).to_have_value(
        "Screen bulk: the raid train is on Saturday."
    )


def test_the_a_key_on_a_card_being_edited_saves_and_approves_the_edit(page: Page, live_luma):
    live_luma.seed("suggestions_clear")
    made = live_luma.seed("suggestion", content="Screen key: the emote is a wave.")
    page.goto("/memory/")
    card = page.locator(f'#suggestion-list > li[data-id="{made["id"]}"]')
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Memory text").fill("Screen key: the emote is a heart.")
    card.get_by_role("spinbutton", name="Importance").focus()
    page.keyboard.press("Escape")  # leaves the edit: the buttons come back
    expect(card.get_by_role("button", name="Approve", exact=True)).to_be_visible()
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Memory text").fill("Screen key: the emote is a heart.")
    card.click(position={"x": 2, "y": 2})  # the card, not a field: keys act on it
    card.focus()
    page.keyboard.press("a")
    expect(card).to_have_count(0)
    assert (
        live_luma.seed("memory_get", memory_id=made["id"])["content"]
        == "Screen key: the emote is a heart."
    )


def test_editing_a_memory_hides_edit_and_delete_and_save_saves(page: Page, live_luma):
    made = live_luma.seed("memory", content="Screen memory: the stream ends at 11pm.")
    page.goto("/memory/")
    page.get_by_label("Search").fill("Screen memory stream ends")
    expect(page.locator("#result-summary")).to_contain_text("match")  # the search answered
    card = page.locator(f'#memory-list > li[data-id="{made["id"]}"]')
    card.get_by_role("button", name="Edit").click()
    for name in ("Edit", "Delete", "History"):
        expect(card.get_by_role("button", name=name, exact=True)).to_be_hidden()
    card.get_by_role("textbox", name="Memory text").fill(
        "Screen memory: the stream ends at midnight."
    )
    card.get_by_role("button", name="Save", exact=True).click()
    expect(card.locator(".content")).to_have_text("Screen memory: the stream ends at midnight.")
    expect(card.get_by_role("button", name="Edit")).to_be_visible()
    assert live_luma.seed("memory_get", memory_id=made["id"])["content"].endswith("midnight.")


def test_the_chat_panel_hides_a_suggestions_buttons_while_it_is_edited(page: Page, live_luma):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    made = live_luma.seed("suggestion", content="Screen panel: the cat is called Mochi.")
    page.goto("/")
    card = page.locator(f'#suggestions > li[data-id="{made["id"]}"]')
    card.get_by_role("button", name="Edit").click()
    for name in ("Approve", "Reject"):
        expect(card.get_by_role("button", name=name, exact=True)).to_be_hidden()
    expect(card.get_by_role("button", name="Save & approve")).to_be_visible()


NOTATION = re.compile(r"\b(user|discord|twitch):\d+\b")


def test_a_memory_about_yourself_names_you_everywhere(browser, live_luma, sessions):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    page, watch = open_page(browser, live_luma, DESKTOP, "screen-kai")
    sessions.append(page)
    live_luma.seed(
        "suggestion", content="Screen about: Kai likes green tea.", subject_username="screen-kai"
    )
    page.goto("/memory/")
    page.get_by_role("button", name="+ Add a memory").click()
    page.get_by_label("What Luma should remember").fill("Screen about: I play the drums.")
    page.get_by_role("button", name="Save memory").click()
    mine = page.locator("#memory-list > li", has_text="Screen about: I play the drums.")
    expect(mine.locator(".meta-line")).to_contain_text("about screen-kai")
    expect(suggestion_card(page, "Kai likes green tea").locator(".meta-line")).to_contain_text(
        "about screen-kai"
    )
    mine.get_by_role("button", name="History").click()
    expect(mine.locator(".history-list li")).not_to_have_count(0)
    assert not NOTATION.search(page.locator("main").inner_text())
    page.goto("/")
    panel = page.locator("#suggestions-panel")
    expect(panel).to_contain_text("Kai likes green tea")
    expect(panel).to_contain_text("about screen-kai")
    assert not NOTATION.search(panel.inner_text())
    assert watch.problems == []


DATES = """() => [...document.querySelectorAll("time[datetime]")].map((t) => ({
  iso: t.getAttribute("datetime"), text: t.textContent.trim(),
  want: t.dataset.format === "date"
    ? Luma.formatDate(t.getAttribute("datetime")) : Luma.formatDateTime(t.getAttribute("datetime")),
}))"""


def test_dates_keep_one_format_before_and_after_a_live_update(page: Page, tmp_path):
    page.goto("/documents/")
    file = tmp_path / "screen-dates.txt"
    file.write_text("Screen dates: the charity stream is in June.")
    page.get_by_label("Files", exact=True).set_input_files(str(file))
    page.locator("#upload-form").get_by_role("button", name="Upload").click()
    row = page.locator("#documents-body tr", has_text="screen-dates.txt")
    expect(row.locator(".status")).to_contain_text("Done")
    live = row.locator("time").inner_text()
    page.reload()
    served = (
        page.locator("#documents-body tr", has_text="screen-dates.txt").locator("time").inner_text()
    )
    assert live == served
    dates = page.evaluate(DATES)
    assert dates and all(d["text"] == d["want"] for d in dates), dates
    page.locator("#documents-body tr", has_text="screen-dates.txt").get_by_role("link").click()
    expect(page.get_by_role("heading", name="screen-dates.txt")).to_be_visible()
    page.wait_for_load_state()
    dates = page.evaluate(DATES)
    assert dates and all(d["text"] == d["want"] for d in dates), dates


def test_a_chat_uploads_done_line_is_still_there_after_a_reload(page: Page, tmp_path):
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="+ New chat").click()
    page.get_by_role("textbox", name="Message").fill("Screen schedule: here it is")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.assistant").last).to_contain_text("Hello from the fake model.")
    file = tmp_path / "screen-schedule.txt"
    file.write_text("Screen upload: Mondays are art streams.")
    page.locator("#upload-input").set_input_files(str(file))
    line = page.locator(".message.document", has_text="screen-schedule.txt")
    expect(line).to_contain_text("done")
    page.get_by_role("textbox", name="Message").fill("Did you read it?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.assistant")).to_have_count(2)
    with page.expect_response(
        lambda r: re.search(r"/api/chat/conversations/\d+/messages", r.url) is not None
    ):
        page.reload()
    time.sleep(0.5)  # the server's messages are shown, then the upload lines come back
    line = page.locator(".message.document", has_text="screen-schedule.txt")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("done")
    # In its place: after the first reply, before the second question.
    order = page.locator("#messages > li").evaluate_all(
        "(items) => items.map((li) => li.className.split(' ')[1])"
    )
    assert order == ["user", "assistant", "document", "user", "assistant"], order
