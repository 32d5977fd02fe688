"""What a new-user trial of the web pages found, each held in a real browser: an open
History closed by a search that was not asked for, update suggestions that did not say
what they replace, a memory page that never looked for new suggestions, a delete
question that said "for good", a phone navigation cut off, a viewer's chat asking a
moderator-only API, a day's auto-approvals sent back without asking, and the focus
after an undo by key."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import USERNAME, LiveLuma, deepseek_settings, logged_in_page


@pytest.fixture(autouse=True)
def empty_queue(live_luma: LiveLuma) -> Iterator[None]:
    """Each test starts and ends with no suggestion pending."""
    live_luma.seed("suggestions_clear")
    yield
    live_luma.seed("suggestions_clear")


def suggestions_on(live_luma: LiveLuma, fake_openai) -> None:
    """The chat shows its suggestions panel."""
    shown = {**deepseek_settings(fake_openai), "memory_suggestions_enabled": True}
    live_luma.seed("settings", **shown)


def status(live_luma: LiveLuma, memory_id: int) -> str:
    return live_luma.seed("memory_get", memory_id=memory_id)["status"]


def test_an_opened_history_stays_open_after_searching(page: Page, live_luma: LiveLuma) -> None:
    """Leaving the search box fires `change`; with nothing changed it must not search
    again and re-render the results (which closed the History just opened). The same
    kind as ProxymanApp/Proxyman#72 and infiniflow/ragflow#17934: a list rebuilt by a
    search loses what the user had opened in it."""
    made = live_luma.seed("memory", content="Luma's lucky number is forty-two.", importance=6)
    page.goto("/memory/")
    with page.expect_response(lambda r: "q=lucky+number" in r.url):
        page.get_by_label("Search").press_sequentially("lucky number", delay=20)
    card = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    expect(card).to_be_visible()  # other tests' memories may be listed too (one server)
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/api/memory/search" in r.url else None)

    card.get_by_role("button", name="History").click()
    history = card.locator(".history")
    expect(history).to_be_visible()
    page.wait_for_timeout(700)  # past the search's 200 ms debounce
    expect(history).to_be_visible()
    expect(history.locator(".version")).to_have_count(1)
    assert searches == []

    with page.expect_response(lambda r: "q=forty-two" in r.url):
        page.get_by_label("Search").fill("forty-two")  # a changed query still searches
    assert len(searches) == 1


def test_an_update_suggestion_says_which_fact_it_replaces(
    page: Page, live_luma: LiveLuma, fake_openai
) -> None:
    """On the memory page's queue and in the chat's panel (the shared card)."""
    old = live_luma.seed(
        "memory", content="The streamer's cat is called Miso.", subject_username=USERNAME
    )
    update = live_luma.seed(
        "suggestion", content="The streamer's cat is now called Mochi.", importance=6,
        subject_username=USERNAME, updates_id=old["id"],
    )  # fmt: skip
    page.goto("/memory/")
    card = page.locator(f"#suggestion-list > li[data-id='{update['id']}']")
    expect(card.locator(".replaces")).to_have_text("Replaces: The streamer's cat is called Miso.")

    suggestions_on(live_luma, fake_openai)
    page.goto("/")
    panel_card = page.locator(f"#suggestions .suggestion[data-id='{update['id']}']")
    expect(panel_card.locator(".replaces")).to_have_text(
        "Replaces: The streamer's cat is called Miso."
    )


def test_the_memory_page_tells_of_new_suggestions_without_moving_the_focus(
    page: Page, live_luma: LiveLuma
) -> None:
    """Every 30 s (as the chat's panel): the navigation's count and a notice; the list
    reloads only on Show, so the card the keys are on keeps the focus."""
    first = live_luma.seed(
        "suggestion", content="The streamer plays bass.", importance=5, subject_username=USERNAME
    )
    page.clock.install()
    page.goto("/memory/")
    cards = page.locator("#suggestion-list > li")
    expect(cards).to_have_count(1)
    page.keyboard.press("j")
    focused = page.locator(f"#suggestion-list > li[data-id='{first['id']}']")
    expect(focused).to_be_focused()

    live_luma.seed("suggestion", content="Collects vinyl.", importance=5, subject_username=USERNAME)
    page.clock.run_for(31_000)
    expect(page.locator("#nav-pending-count [data-count]")).to_have_text("2")
    notice = page.locator("#new-suggestions")
    expect(notice).to_contain_text("1 new suggestion")
    expect(cards).to_have_count(1)
    expect(focused).to_be_focused()

    notice.get_by_role("button", name="Show them").click()
    expect(cards).to_have_count(2)
    expect(notice).to_be_hidden()


def test_the_delete_question_says_the_memory_can_be_restored(
    page: Page, live_luma: LiveLuma
) -> None:
    made = live_luma.seed("memory", content="Luma's rival is a toaster.", importance=4)
    page.goto("/memory/")
    # Found by its words: other tests' memories (one server) may fill the first page.
    with page.expect_response(lambda r: "q=rival+toaster" in r.url):
        page.get_by_label("Search").press_sequentially("rival toaster", delay=20)
    card = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    card.get_by_role("button", name="Delete").click()
    expect(card.locator(".confirm")).to_contain_text(
        "Delete this memory? You can restore it from Recently deleted for 30 days."
    )
    expect(card).not_to_contain_text("for good")


@pytest.mark.parametrize("path", ["/", "/memory/", "/documents/", "/usage/", "/settings/"])
def test_every_navigation_link_shows_on_a_phone_without_sideways_scrolling(
    page: Page, path: str
) -> None:
    """Settings and Admin were past the edge (as kentcdodds/glamorous-website#106,
    lxndrblz/anatole#36, am1t/microdotblog-paper#11): on a phone the Menu button opens
    them, one under the other (e2e/test_every_screen.py tries every role and page)."""
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(path)
    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Chat", "Memory", "Documents", "Usage", "Settings", "Admin"):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"


@pytest.mark.parametrize(("username", "moderator"), [("trial-viewer", False), ("trial-mod", True)])
def test_only_moderators_ask_for_the_dropped_suggestions(
    browser: Browser, live_luma: LiveLuma, fake_openai, username: str, moderator: bool
) -> None:
    """A viewer's chat asked GET /api/memory/suggestions/runs on every load: a 403."""
    suggestions_on(live_luma, fake_openai)
    page = logged_in_page(browser, live_luma, username, moderator=moderator)
    runs: list[int] = []
    page.on("response", lambda r: runs.append(r.status) if "/suggestions/runs" in r.url else None)
    page.reload()
    expect(page.locator("#suggestions-empty")).to_be_visible()
    page.wait_for_load_state("networkidle")
    if moderator:
        assert runs and set(runs) == {200}, runs
    else:
        assert runs == [], runs
    page.context.close()


def test_sending_a_days_auto_approvals_back_asks_first(page: Page, live_luma: LiveLuma) -> None:
    made = [
        live_luma.seed(
            "auto_approved", content=text, importance=8, confidence=0.9, subject_username=USERNAME
        )["id"]
        for text in ("The streamer's birthday is in May.", "The streamer lives by the sea.")
    ]
    page.goto("/memory/")
    button = page.get_by_role("button", name="Send all 2 back to review")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    button.click()
    page.wait_for_timeout(300)
    assert len(asked) == 1 and "all 2 memories" in asked[0]
    assert [status(live_luma, i) for i in made] == ["approved", "approved"]

    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator("#suggestion-list > li")).to_have_count(2)
    assert [status(live_luma, i) for i in made] == ["pending", "pending"]


def test_undo_by_key_puts_the_focus_on_the_card_brought_back(
    page: Page, live_luma: LiveLuma
) -> None:
    older, newer = (
        live_luma.seed("suggestion", content=text, importance=6, subject_username=USERNAME)["id"]
        for text in ("The streamer drinks oat milk.", "The streamer's car is blue.")
    )
    page.goto("/memory/")
    expect(page.locator("#suggestion-list > li")).to_have_count(2)
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator("#suggestion-list > li")).to_have_count(1)
    expect(page.locator(f"#suggestion-list > li[data-id='{older}']")).to_be_focused()

    page.keyboard.press("u")
    back = page.locator(f"#suggestion-list > li[data-id='{newer}']")
    expect(back).to_be_focused()
    expect(back).to_have_class(re.compile(r"\breview-focus\b"))
