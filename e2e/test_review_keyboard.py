"""Review at volume in a real browser: the keyboard over the pending queue (memory page
and chat panel), undo, bulk decisions, groups of near-duplicates, the navigation's
pending count, and sending a day's auto-approvals back to review."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import USERNAME, LiveLuma


@pytest.fixture(autouse=True)
def empty_queue_after(live_luma: LiveLuma) -> Iterator[None]:
    """Other browser tests expect no suggestion left pending by these."""
    yield
    live_luma.seed("suggestions_clear")


def seed_queue(live_luma: LiveLuma, *contents: str) -> list[int]:
    """A fresh queue with these suggestions, the last one newest (listed first)."""
    live_luma.seed("suggestions_clear")
    return [
        live_luma.seed("suggestion", content=content, importance=6, subject_username=USERNAME)["id"]
        for content in contents
    ]


def status(live_luma: LiveLuma, memory_id: int) -> str:
    return live_luma.seed("memory_get", memory_id=memory_id)["status"]


def focused_card(page: Page):
    return page.locator("#suggestion-list > li.review-focus")


def test_the_pending_queue_is_reviewed_by_keyboard_with_undo(page: Page, live_luma: LiveLuma):
    oldest, middle, newest = seed_queue(
        live_luma,
        "The streamer's guitar is called Rosie.",
        "The streamer hates horror games.",
        "The streamer's dog is called Biscuit.",
    )
    page.goto("/memory/")
    badge = page.locator("#nav-pending-count")
    expect(badge.locator("[data-count]")).to_have_text("3")
    cards = page.locator("#suggestion-list > li")
    expect(cards).to_have_count(3)

    page.keyboard.press("j")
    expect(focused_card(page)).to_have_attribute("data-id", str(newest))
    expect(focused_card(page)).to_be_focused()
    page.keyboard.press("a")
    expect(cards).to_have_count(2)
    expect(page.locator("#review-announcer")).to_contain_text("Approved 1 suggestion")
    expect(badge).to_contain_text("2")
    assert status(live_luma, newest) == "approved"
    # The next card takes the focus: the keys go on from there.
    expect(focused_card(page)).to_have_attribute("data-id", str(middle))

    page.keyboard.press("u")
    expect(cards).to_have_count(3)
    expect(page.locator("#review-announcer")).to_contain_text("back to pending")
    expect(badge).to_contain_text("3")
    assert status(live_luma, newest) == "pending"

    page.keyboard.press("k")  # previous
    expect(focused_card(page)).to_have_attribute("data-id", str(newest))
    page.keyboard.press("ArrowDown")
    expect(focused_card(page)).to_have_attribute("data-id", str(middle))
    page.keyboard.press("r")
    expect(page.locator(f"#suggestion-list > li[data-id='{middle}']")).to_have_count(0)
    assert status(live_luma, middle) == "rejected"

    # Edit: the text gets the focus, Enter saves and approves, Esc would cancel.
    expect(focused_card(page)).to_have_attribute("data-id", str(oldest))
    page.keyboard.press("e")
    editor = page.locator(f"#suggestion-list > li[data-id='{oldest}'] textarea")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    page.keyboard.press("e")
    editor.fill("The streamer's red guitar is called Rosie.")
    page.keyboard.press("Enter")
    expect(page.locator(f"#suggestion-list > li[data-id='{oldest}']")).to_have_count(0)
    stored = live_luma.seed("memory_get", memory_id=oldest)
    assert (stored["status"], stored["content"]) == (
        "approved",
        "The streamer's red guitar is called Rosie.",
    )


def test_keys_are_never_taken_while_typing(page: Page, live_luma: LiveLuma):
    """buildbuddy-io/buildbuddy#3835: shortcuts fired while typing because only
    `input[type=text]` was excluded (not a textarea). Here no text field of any kind
    (search, textarea, number, text) gives its keys away."""
    (waiting,) = seed_queue(live_luma, "The streamer collects rubber ducks.")
    page.goto("/memory/")
    expect(page.locator("#suggestion-list > li")).to_have_count(1)

    page.get_by_label("Search").press_sequentially("jar", delay=20)
    page.get_by_role("button", name="+ Add a memory").click()
    page.get_by_label("What Luma should remember").press_sequentially("a jar ux", delay=10)
    page.get_by_label("Tags").first.press_sequentially("xe", delay=10)

    expect(page.get_by_label("Search")).to_have_value("jar")
    expect(page.get_by_label("What Luma should remember")).to_have_value("a jar ux")
    expect(page.locator("#suggestion-list > li")).to_have_count(1)
    assert status(live_luma, waiting) == "pending"
    page.get_by_role("button", name="Cancel").click()
    page.get_by_label("Search").fill("")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Reviewing with the keyboard")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("undo the last decision")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_selected_suggestions_are_decided_in_one_call_and_undone_together(
    page: Page, live_luma: LiveLuma
):
    first, second, third = seed_queue(
        live_luma,
        "The streamer drinks matcha.",
        "The streamer speedruns Celeste.",
        "The streamer lives with two cats.",
    )
    page.goto("/memory/")
    cards = page.locator("#suggestion-list > li")
    expect(cards).to_have_count(3)

    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#suggestion-list .pick:checked")).to_have_count(2)
    expect(page.get_by_role("button", name="Reject selected")).to_be_enabled()
    page.keyboard.press("r")

    expect(cards).to_have_count(1)
    assert [status(live_luma, i) for i in (first, second, third)] == [
        "pending",
        "rejected",
        "rejected",
    ]
    page.locator(".review-toast").get_by_role("button", name="Undo").click()
    expect(cards).to_have_count(3)
    assert [status(live_luma, i) for i in (second, third)] == ["pending", "pending"]


def test_one_decision_covers_a_group_of_near_duplicates(page: Page, live_luma: LiveLuma):
    lead, same = seed_queue(
        live_luma,
        "The streamer's cat is called Mochi.",
        "The streamer's cat is called Mochi!",
    )
    page.goto("/memory/")
    group = page.locator("#suggestion-list > li")
    expect(group).to_have_count(1)
    expect(page.locator("#suggestion-count")).to_have_text("2")
    expect(group).to_contain_text("Said 2 times in other words")
    group.locator("summary").click()
    group.get_by_label("The streamer's cat is called Mochi.", exact=True).check()

    group.get_by_role("button", name="Approve (1 of 2)").click()

    expect(group).to_have_count(0)
    assert (status(live_luma, lead), status(live_luma, same)) == ("approved", "rejected")


def test_the_chat_panel_is_reviewed_by_keyboard(page: Page, live_luma: LiveLuma):
    live_luma.seed("settings", memory_suggestions_enabled=True)
    (waiting,) = seed_queue(live_luma, "The streamer plays the ocarina.")
    page.goto("/")
    panel = page.get_by_role("complementary", name="Memory suggestions")
    card = panel.locator(f".suggestion[data-id='{waiting}']")
    expect(card).to_be_visible()
    page.get_by_role("textbox", name="Message").press_sequentially("ja", delay=10)
    assert status(live_luma, waiting) == "pending"  # typing a message decides nothing

    panel.get_by_role("heading").first.click()
    page.keyboard.press("j")
    expect(card).to_be_focused()
    page.keyboard.press("a")

    expect(card).to_have_count(0)
    expect(page.locator("#nav-pending-count")).to_be_hidden()
    assert status(live_luma, waiting) == "approved"
    page.keyboard.press("u")
    expect(panel.locator(f".suggestion[data-id='{waiting}']")).to_be_visible()
    assert status(live_luma, waiting) == "pending"


def test_a_days_auto_approvals_go_back_to_review_with_one_switch(page: Page, live_luma: LiveLuma):
    live_luma.seed("suggestions_clear")
    made = live_luma.seed(
        "auto_approved", content="The streamer's birthday is in June.", importance=9,
        confidence=0.95, subject_username=USERNAME,
    )  # fmt: skip
    page.goto("/memory/")
    section = page.locator("#auto-approved-section")
    expect(section).to_contain_text("1 auto-approved")
    section.get_by_role("button", name="Show them").click()
    listed = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    expect(listed).to_contain_text("auto-approved")
    expect(listed).to_contain_text("95% sure")

    page.once("dialog", lambda dialog: dialog.accept())  # asked first (test_trial_fixes.py)
    section.get_by_role("button", name="Send it back to review").click()

    expect(page.locator(f"#suggestion-list > li[data-id='{made['id']}']")).to_be_visible()
    expect(section).to_be_hidden()
    assert status(live_luma, made["id"]) == "pending"
