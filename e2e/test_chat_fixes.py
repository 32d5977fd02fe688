"""The chat page with a stored chat deleted elsewhere, and the persona's greeting
after a reload, in a real browser.

Each test is a new account of its own (the live server is shared by every browser
test of the run); the persona's greeting is set for the test and put back after it.
"""

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveLuma, logged_in_page

SET_GREETING = """async (greeting) => {
  const headers = {"X-CSRFToken": Luma.csrfToken(), "Content-Type": "application/json"};
  const before = await (await fetch("/api/persona")).json();
  const answer = await fetch("/api/persona", {
    method: "PUT", headers, body: JSON.stringify({greeting}),
  });
  if (!answer.ok) throw new Error(await answer.text());
  return before.greeting;
}"""


def unique(word: str) -> str:
    return f"{word}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def greeting(page: Page) -> Iterator[str]:
    """The persona greets every new web chat with these words while the test runs
    (set by the owner); its greeting before goes back after."""
    words = f"Welcome, {unique('wayfarer')}! What shall we talk about?"
    page.goto("/settings/")
    before = page.evaluate(SET_GREETING, words)
    yield words
    page.evaluate(SET_GREETING, before)


@pytest.fixture
def viewer(browser: Browser, live_luma: LiveLuma) -> Iterator[Page]:
    """The chat page of a new viewer account; fails on any script error."""
    page = logged_in_page(browser, live_luma, unique("fixes"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.wait_for_load_state("networkidle")
    yield page
    page.context.close()
    assert not errors, f"script errors on the page: {errors}"


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator("#messages .message.assistant:not(.streaming) .meta")).to_have_count(1)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()


def stored_chat(page: Page) -> int | None:
    return page.evaluate("Luma.chat.conversation()")


def delete_elsewhere(page: Page, conversation_id: int) -> None:
    """Deleted as another tab or device would: the page is not told."""
    page.evaluate(
        "(id) => Luma.api(`/api/chat/conversations/${id}`, {method: 'DELETE'})", conversation_id
    )


def test_a_stored_chat_deleted_elsewhere_falls_back_to_the_latest_chat_then_a_new_one(
    greeting: str, viewer: Page
) -> None:
    page = viewer
    messages = page.locator("#messages .message")
    banner = page.locator("#banner")
    words = {name: unique(name) for name in ("alpha", "beta", "gamma")}
    chats = {}
    for name, text in words.items():
        page.get_by_role("button", name="+ New chat").click()
        send(page, text)
        chats[name] = stored_chat(page)
    assert len(set(chats.values())) == 3

    delete_elsewhere(page, chats["gamma"])
    page.reload()
    # The latest chat left opens, as in a fresh browser; nothing of the deleted one.
    expect(page.locator("#messages .message.user .body")).to_have_text([words["beta"]])
    expect(banner).to_be_hidden()
    expect(page.locator("#conversation-list button.conversation")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    assert stored_chat(page) == chats["beta"]
    page.reload()  # and it is the stored chat now
    expect(page.locator("#messages .message.user .body")).to_have_text([words["beta"]])

    delete_elsewhere(page, chats["beta"])
    delete_elsewhere(page, chats["alpha"])
    page.reload()
    # None left: a new chat with the greeting.
    expect(messages).to_have_count(1)
    expect(messages.locator(".body")).to_have_text([greeting])
    expect(banner).to_be_hidden()
    expect(page.locator("#conversation-list button.conversation")).to_have_count(0)
    assert stored_chat(page) is None
    send(page, unique("delta"))  # and the chat works
    expect(page.locator("#conversation-list button.conversation")).to_have_count(1)


def test_the_greeting_shows_no_tokens_or_delete_after_a_reload(greeting: str, viewer: Page) -> None:
    page = viewer
    page.get_by_role("button", name="+ New chat").click()
    assistant = page.locator("#messages .message.assistant")

    def greeting_looks_plain() -> None:
        first = assistant.first
        expect(first.locator(".body")).to_have_text(greeting)
        expect(first.locator(".meta")).to_have_count(0)
        expect(first.get_by_role("button", name="Copy this reply")).to_be_visible()
        expect(first.locator(".message-actions button")).to_have_count(1)

    greeting_looks_plain()  # live
    send(page, unique("epsilon"))
    expect(assistant).to_have_count(2)
    greeting_looks_plain()

    page.reload()  # from the server: the greeting it stored looks the same
    page.wait_for_load_state("networkidle")
    expect(assistant).to_have_count(2)
    greeting_looks_plain()
    reply = assistant.nth(1)
    expect(reply.locator(".meta")).to_have_text(re.compile(r"^fake-chat · \d+ tokens"))
    expect(reply.get_by_role("button", name="Delete this reply")).to_be_visible()
    assert page.get_by_text("0 tokens").count() == 0

    # From the browser's own copy, before the server answers, too.
    page.route("**/api/chat/conversations/*/messages", lambda route: None)
    page.reload()
    expect(assistant).to_have_count(2)
    greeting_looks_plain()
