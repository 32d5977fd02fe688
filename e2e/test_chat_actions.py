"""Message and conversation actions in a real browser, on a desktop and a phone.

Each test is a new viewer account of its own: the live server is shared by every
browser test of the run, and the chat rate limit (LUMA_CHAT_RATE) counts per account,
so these many replies never slow down another test's account.
"""

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveLuma, log_in
from providers.testing.fakes import FakeOpenAIServer

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def browser_of(browser: Browser, live_luma: LiveLuma, viewport: dict, who: tuple[str, str]) -> Page:
    """A new browser (context) of this size that may use the clipboard, logged in as `who`."""
    context = browser.new_context(
        base_url=live_luma.url,
        viewport=viewport,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    log_in(page, *who)
    page.wait_for_load_state("networkidle")
    return page


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def chat(request, browser: Browser, live_luma: LiveLuma) -> Iterator[Page]:
    """The chat page of a new viewer, in a browser of this size; fails on any script error."""
    who = (unique("actions"), "pw-actions-123")
    live_luma.seed("user", username=who[0], password=who[1])
    page = browser_of(browser, live_luma, request.param, who)
    page.luma_user = who  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    context = page.context
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def is_desktop(page: Page) -> bool:
    return (page.viewport_size or DESKTOP)["width"] > 700


def open_sidebar(page: Page) -> None:
    if not is_desktop(page):
        page.get_by_role("button", name="Chats").click()


def new_chat(page: Page) -> None:
    open_sidebar(page)
    page.get_by_role("button", name="+ New chat").click()


def unique(word: str) -> str:
    return f"{word}-{uuid.uuid4().hex[:6]}"


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()


def replies(page: Page):
    return page.locator("#messages .message.assistant:not(.streaming):visible")


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_copy_regenerate_swipe_edit_and_delete_messages(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    page = chat
    question = unique("Which game")
    fake_openai.behaviour.reply = "Play **Celeste** first."
    send(page, question)
    expect(replies(page).locator(".body")).to_have_text(["Play Celeste first."])

    # Copy: the message's text as written (Markdown for a reply).
    user = page.locator("#messages .message.user")
    expect(user.get_by_role("button", name="Edit your message", exact=True)).to_be_visible()
    user.get_by_role("button", name="Copy your message").click()
    expect(user.get_by_role("button", name="Copy your message")).to_have_attribute(
        "data-label", "Copied"
    )
    assert clipboard(page) == question
    replies(page).get_by_role("button", name="Copy this reply").click()
    assert clipboard(page) == "Play **Celeste** first."

    # Regenerate twice: three versions, the newest shown; swipe back to the first.
    fake_openai.behaviour.reply = "Try Hades."
    replies(page).get_by_role("button", name="Regenerate this reply").click()
    expect(replies(page).locator(".body")).to_have_text(["Try Hades."])
    expect(replies(page).locator(".version-count")).to_have_attribute("data-label", "2/2")
    fake_openai.behaviour.reply = "Outer Wilds, surely."
    replies(page).get_by_role("button", name="Regenerate this reply").click()
    expect(replies(page).locator(".version-count")).to_have_attribute("data-label", "3/3")
    expect(replies(page)).to_have_count(1)
    replies(page).get_by_role("button", name="Previous version").click()
    expect(replies(page).locator(".body")).to_have_text(["Try Hades."])
    replies(page).get_by_role("button", name="Previous version").click()
    expect(replies(page).locator(".version-count")).to_have_attribute("data-label", "1/3")
    expect(replies(page).get_by_role("button", name="Previous version")).to_be_disabled()
    expect(replies(page).locator("strong")).to_have_text("Celeste")
    page.reload()  # the choice is the server's: it is what the model reads back
    page.wait_for_load_state("networkidle")
    expect(replies(page).locator(".version-count")).to_have_attribute("data-label", "1/3")
    expect(replies(page).locator(".body")).to_have_text(["Play Celeste first."])

    # A second turn, then edit the first message: the later turns are replaced.
    fake_openai.behaviour.reply = "Because it is lovely."
    send(page, "Why that one?")
    expect(replies(page)).to_have_count(2)
    expect(replies(page).nth(0).get_by_role("button", name="Regenerate this reply")).to_be_hidden()
    fake_openai.behaviour.reply = "Then try Stardew Valley."
    page.locator("#messages .message.user").first.get_by_role(
        "button", name="Edit your message", exact=True
    ).click()
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_have_value(question)
    expect(page.locator(".edit-form")).to_contain_text("replaces the 3 messages after this one")
    editor.fill(question + " that is calm")
    page.get_by_role("button", name="Save & send").click()
    expect(page.locator("#messages .message.user")).to_have_text([question + " that is calm"])
    expect(replies(page).locator(".body")).to_have_text(["Then try Stardew Valley."])
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#messages .message.user")).to_have_text([question + " that is calm"])
    expect(replies(page).locator(".body")).to_have_text(["Then try Stardew Valley."])

    # Delete the reply (with a confirmation), then regenerate a reply for the message.
    replies(page).get_by_role("button", name="Delete this reply").click()
    page.get_by_role("button", name="Keep").click()
    expect(replies(page)).to_have_count(1)
    replies(page).get_by_role("button", name="Delete this reply").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(replies(page)).to_have_count(0)
    fake_openai.behaviour.reply = "A fresh answer."
    page.get_by_role("button", name="Get a reply to this message").click()
    expect(replies(page).locator(".body")).to_have_text(["A fresh answer."])

    # Delete the person's message: its reply goes with it.
    page.locator("#messages .message.user").get_by_role(
        "button", name="Delete your message and its reply"
    ).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#messages .message.user")).to_have_count(0)
    expect(replies(page)).to_have_count(0)


def test_continue_a_cut_off_reply_and_regenerate_it(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    page = chat
    fake_openai.behaviour.reply = "The three best games are"
    fake_openai.behaviour.finish_reason = "length"
    send(page, unique("best games"))
    expect(replies(page).locator(".reply-status")).to_contain_text("Cut off")
    fake_openai.behaviour.reply = " Celeste and Hades."
    fake_openai.behaviour.finish_reason = "stop"
    replies(page).get_by_role("button", name="Continue").click()
    expect(replies(page).locator(".body")).to_have_text(
        ["The three best games are Celeste and Hades."]
    )
    fake_openai.behaviour.reply = "Just Celeste."
    replies(page).get_by_role("button", name="Regenerate this reply").click()
    expect(replies(page).locator(".body")).to_have_text(["Just Celeste."])
    replies(page).get_by_role("button", name="Previous version").click()
    expect(replies(page).locator(".body")).to_have_text(
        ["The three best games are Celeste and Hades."]
    )


def test_markdown_renders_while_the_reply_streams(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    page = chat
    tail = " ".join(f"word{n}" for n in range(40))
    fake_openai.behaviour.reply = f"Here is **something bold** and then {tail}"
    fake_openai.behaviour.chunk_delay = 0.1
    box = page.get_by_role("textbox", name="Message")
    box.fill(unique("stream markdown"))
    box.press("Enter")
    streaming = page.locator("#messages .message.streaming")
    expect(streaming.locator("strong")).to_have_text("something bold")
    expect(streaming).not_to_contain_text("**")
    expect(streaming).not_to_contain_text("word39")  # still streaming when bold showed
    expect(replies(page).locator(".body")).to_contain_text("word39", timeout=20_000)
    expect(replies(page).locator("strong")).to_have_text("something bold")


def test_code_blocks_are_highlighted_and_copied(chat: Page, fake_openai: FakeOpenAIServer) -> None:
    page = chat
    code = 'def greet(name):\n    return f"Hi {name}"  # say hi'
    fake_openai.behaviour.reply = f"Like this:\n\n```python\n{code}\n```\n\nAnd `inline`."
    send(page, unique("show code"))
    block = replies(page).locator("pre")
    expect(block.locator("span.k").first).to_have_text("def")  # Pygments' keyword class
    color = block.locator("span.k").first.evaluate("node => getComputedStyle(node).color")
    plain = block.locator("span.p").first.evaluate("node => getComputedStyle(node).color")
    assert color != plain  # highlight.css is loaded
    block.get_by_role("button", name="Copy code").click()
    expect(block.get_by_role("button", name="Copy code")).to_have_attribute("data-label", "Copied")
    assert clipboard(page) == code + "\n"


def test_the_copy_button_never_covers_a_long_line_of_code(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    long_line = "values = [" + ", ".join(str(n) for n in range(80)) + "]"
    fake_openai.behaviour.reply = f"```python\n{long_line}\nprint(values)\n```"
    send(chat, unique("long code"))
    block = replies(chat).locator("pre")
    button = block.get_by_role("button", name="Copy code")
    expect(button).to_be_visible()

    def boxes() -> tuple[dict, dict, dict]:
        first = block.locator("code").evaluate(
            "code => { const r = document.createRange(); r.setStart(code, 0); r.setEnd(code, 1);"
            " const b = r.getBoundingClientRect(); return {x: b.x, y: b.y, height: b.height}; }"
        )
        return button.bounding_box(), first, block.bounding_box()

    for scrolled in (0, 10_000):
        block.evaluate("(pre, left) => { pre.scrollLeft = left; }", scrolled)
        copy, first_line, pre = boxes()
        assert copy["y"] + copy["height"] <= first_line["y"] + 1  # above the code
        assert pre["x"] <= copy["x"] and copy["x"] + copy["width"] <= pre["x"] + pre["width"]
    assert block.evaluate("pre => pre.scrollLeft") > 0  # the line was long enough to scroll


def test_a_reply_cannot_inject_script_through_markdown_or_html(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    page = chat
    fake_openai.behaviour.reply = (
        "<script>window.hacked = 1</script> <img src=x onerror='window.hacked = 2'> "
        "[link](javascript:window.hacked=3) **fine**"
    )
    fake_openai.behaviour.chunk_delay = 0.05
    send(page, unique("inject"))
    expect(replies(page).locator("strong")).to_have_text("fine")
    assert page.evaluate("window.hacked") is None
    assert replies(page).locator(".body script, .body img").count() == 0
    assert replies(page).locator("a[href^='javascript']").count() == 0
    assert "<script>" in replies(page).locator(".body").inner_text()


def test_rename_search_export_and_delete_a_conversation(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    page = chat
    secret = unique("marmalade")
    fake_openai.behaviour.reply = f"I love {secret} on toast."
    send(page, "What goes on toast?")
    send(page, "And at teatime?")
    title = unique("Toast talk")

    open_sidebar(page)
    sidebar = page.locator("#conversation-list")
    current = sidebar.locator(".conversation-item").filter(
        has=page.locator("button[aria-current='true']")
    )
    expect(current.locator("time")).not_to_be_empty()  # the date beside each chat
    current.hover()
    current.get_by_role("button", name="Rename chat What goes on toast?").click()
    box = page.get_by_role("textbox", name="New title")
    box.fill(title)
    box.press("Enter")
    expect(sidebar.get_by_role("button", name=title, exact=True)).to_be_visible()

    # Search by title, then by text in the messages (with the words around it).
    search = page.get_by_role("searchbox", name="Search chats by title and text")
    search.fill(title.upper())
    expect(sidebar.locator(".conversation")).to_have_text([title])
    search.fill(secret)
    expect(sidebar.locator(".conversation")).to_have_text([title])
    expect(sidebar.locator(".snippet")).to_contain_text(f"I love {secret} on toast.")
    search.fill(unique("nothing-like-this"))
    expect(sidebar).to_contain_text("No chats match")
    search.fill(secret)

    # Export as Markdown and JSON: real downloads.
    item = sidebar.locator(".conversation-item").filter(has_text=title)
    item.hover()
    item.get_by_label(f"Export chat {title}").click()
    with page.expect_download() as markdown_download:
        item.get_by_role("link", name="Markdown (.md)").click()
    markdown = markdown_download.value
    assert re.fullmatch(r"luma-chat-\d+-toast-talk-\w+\.md", markdown.suggested_filename)
    text = markdown.path().read_text(encoding="utf-8")
    assert text.startswith(f"# {title}\n") and f"I love {secret} on toast." in text
    with page.expect_download() as json_download:
        item.get_by_role("link", name="JSON (.json)").click()
    data = json.loads(json_download.value.path().read_text(encoding="utf-8"))
    assert data["title"] == title
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"] * 2

    # Delete with a confirmation: Keep keeps it, Delete deletes it.
    item.hover()
    item.get_by_role("button", name=f"Delete chat {title}").click()
    sidebar.get_by_role("button", name="Keep").click()
    expect(sidebar.get_by_role("button", name=title, exact=True)).to_be_visible()
    item.hover()
    item.get_by_role("button", name=f"Delete chat {title}").click()
    sidebar.get_by_role("button", name="Delete", exact=True).click()
    expect(sidebar.get_by_role("button", name=title, exact=True)).to_have_count(0)
    expect(page.locator("#messages .message.user")).to_have_count(0)  # it was the open one
    open_sidebar(page)  # a phone closed it, for the new chat
    search.fill("")
    search.fill(secret)
    expect(sidebar).to_contain_text("No chats match")


def test_a_new_browser_opens_the_last_conversation(
    chat: Page, fake_openai: FakeOpenAIServer, browser: Browser, live_luma: LiveLuma
) -> None:
    fake_openai.behaviour.reply = "An older chat."
    send(chat, unique("Older"))
    new_chat(chat)
    question = unique("Remember me")
    fake_openai.behaviour.reply = "Of course I remember."
    send(chat, question)
    expect(replies(chat)).to_have_count(1)

    page = browser_of(browser, live_luma, chat.viewport_size or DESKTOP, chat.luma_user)  # type: ignore[attr-defined]
    fresh = page.context
    expect(page.locator("#messages .message.user")).to_have_text([question])
    expect(replies(page).locator(".body")).to_have_text(["Of course I remember."])
    # A browser that chose a new chat keeps it new after a reload.
    new_chat(page)
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#messages .message.user")).to_have_count(0)
    fresh.close()


def test_copy_works_where_the_clipboard_api_is_missing(
    chat: Page, fake_openai: FakeOpenAIServer
) -> None:
    """Chainlit #670, hostedgpt #387: over plain http on a LAN address (no secure context)
    `navigator.clipboard` is missing and copy buttons did nothing."""
    page = chat
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', { value: false })")
    page.reload()
    page.wait_for_load_state("networkidle")
    new_chat(page)
    assert page.evaluate("window.isSecureContext") is False
    fake_openai.behaviour.reply = "Copy me over http."
    send(page, unique("plain http"))
    button = replies(page).get_by_role("button", name="Copy this reply")
    button.click()
    expect(button).to_have_attribute("data-label", "Copied")
    assert clipboard(page) == "Copy me over http."


def test_a_chat_title_uses_the_sidebar_and_its_actions_show_on_hover_or_focus(
    browser: Browser, live_luma: LiveLuma, fake_openai: FakeOpenAIServer
) -> None:
    """Rename, Export and Delete took their room from every title while hidden (a title
    showed about 11 characters); with a mouse they now appear on hover, and keyboard
    users reach them by tabbing from the title."""
    who = (unique("titles"), "pw-titles-123")
    live_luma.seed("user", username=who[0], password=who[1])
    page = browser_of(browser, live_luma, DESKTOP, who)
    fake_openai.behaviour.reply = "Stardew Valley."
    send(page, "Which cosy games should we play on the Friday night stream?")
    expect(replies(page)).to_have_count(1)

    item = page.locator("#conversation-list .conversation-item").first
    title = item.locator("button.conversation")
    rename = item.get_by_role("button", name=re.compile("^Rename chat"))
    page.mouse.move(1200, 700)
    expect(rename).to_be_hidden()
    row, box = item.locator(".conversation-row").bounding_box(), title.bounding_box()
    assert row and box and box["width"] == row["width"]

    title.focus()
    page.keyboard.press("Tab")
    expect(rename).to_be_focused()
    page.locator("body").click(position={"x": 1200, "y": 5})
    expect(rename).to_be_hidden()
    item.hover()
    expect(rename).to_be_visible()
    page.context.close()
