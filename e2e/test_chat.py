"""The chat page in a real browser: streaming, history, conversations, errors, safety."""

import re

from playwright.sync_api import Page, expect

from e2e.conftest import PASSWORD, USERNAME, LiveLuma
from e2e.test_documents import RECORD_FORM_FIELDS, drop_files
from providers.testing.fakes import FakeOpenAIServer


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def assistant_messages(page: Page):
    return page.locator("#messages .message.assistant:not(.streaming)")


def test_login_is_required_and_the_login_page_logs_in(browser, live_luma: LiveLuma) -> None:
    context = browser.new_context(base_url=live_luma.url)
    page = context.new_page()
    page.goto("/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/settings/"))
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for link in ("Chat", "Memory", "Documents", "Usage", "Settings", "Admin"):
        expect(nav.get_by_role("link", name=link)).to_be_visible()
    context.close()


def test_a_reply_streams_in_and_the_history_survives_a_reload(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.behaviour.reply = "Streaming **works** nicely, one word at a time."
    fake_openai.behaviour.chunk_delay = 0.15
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Hello Luma, are you streaming?")
    expect(page.locator("#messages .message.user")).to_have_text("Hello Luma, are you streaming?")
    expect(page.locator("#typing")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    streaming = page.locator("#messages .message.streaming")
    expect(streaming).to_contain_text("Streaming")  # part of the reply, before the end
    # No Regenerate ("Get a reply to this message") while the reply is on its way.
    expect(page.locator("#messages .regenerate:visible")).to_have_count(0)
    expect(assistant_messages(page)).to_have_count(1)
    reply = assistant_messages(page).first
    expect(reply).to_contain_text("Streaming works nicely, one word at a time.")
    expect(reply.locator("strong")).to_have_text("works")  # Markdown rendered
    expect(reply.locator(".meta")).to_contain_text("fake-chat")
    expect(page.locator("#typing")).to_be_hidden()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    expect(page.locator("#conversation-list")).to_contain_text("Hello Luma, are you streaming?")

    streamed_meta = reply.locator(".meta").inner_text()
    assert "0 tokens" not in streamed_meta
    page.reload()
    expect(page.locator("#messages .message.user")).to_have_text("Hello Luma, are you streaming?")
    expect(assistant_messages(page).first.locator("strong")).to_have_text("works")
    page.wait_for_load_state("networkidle")  # the server's copy has replaced the stored one
    expect(assistant_messages(page).first.locator(".meta")).to_have_text(streamed_meta)
    current = page.locator("#conversation-list button[aria-current='true']")
    expect(current).to_have_text("Hello Luma, are you streaming?")

    # The history shows at once from localStorage, before (or without) the server's answer.
    page.route("**/api/chat/conversations/*/messages", lambda route: route.abort())
    page.reload()
    expect(page.locator("#messages .message.user")).to_have_text("Hello Luma, are you streaming?")
    expect(assistant_messages(page).first.locator("strong")).to_have_text("works")


def test_shift_enter_makes_a_new_line_and_stop_keeps_the_partial_reply(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.behaviour.reply = " ".join(f"word{n}" for n in range(200))
    fake_openai.behaviour.chunk_delay = 0.05
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    box = page.get_by_role("textbox", name="Message")
    box.fill("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(page.locator("#messages .message.streaming")).to_contain_text("word3")
    page.get_by_role("button", name="Stop").click()
    reply = assistant_messages(page).first
    expect(reply.locator(".reply-status")).to_contain_text("Stopped.")
    expect(reply).not_to_contain_text("word199")


def test_a_second_conversation_and_switching_back(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    fake_openai.behaviour.reply = "About cats: they purr."
    send(page, "Tell me about cats")
    expect(assistant_messages(page)).to_contain_text(["About cats: they purr."])

    page.get_by_role("button", name="+ New chat").click()
    expect(page.locator("#messages .message")).to_have_count(0)
    fake_openai.behaviour.reply = "About dogs: they bark."
    send(page, "Tell me about dogs")
    expect(assistant_messages(page)).to_contain_text(["About dogs: they bark."])

    conversations = page.locator("#conversation-list")
    conversations.get_by_role("button", name="Tell me about cats").first.click()
    expect(page.locator("#messages .message.user")).to_have_text(["Tell me about cats"])
    expect(assistant_messages(page).locator(".body")).to_have_text(["About cats: they purr."])
    conversations.get_by_role("button", name="Tell me about dogs").first.click()
    expect(assistant_messages(page).locator(".body")).to_have_text(["About dogs: they bark."])

    dogs = conversations.locator(".conversation-item").filter(has_text="Tell me about dogs")
    dogs.first.hover()  # a chat's actions show on hover (or focus)
    conversations.get_by_role("button", name="Delete chat Tell me about dogs").first.click()
    conversations.get_by_role("button", name="Delete", exact=True).click()
    expect(conversations.get_by_role("button", name="Tell me about dogs")).to_have_count(0)
    expect(page.locator("#messages .message")).to_have_count(0)  # the open chat went away
    page.reload()
    expect(conversations.get_by_role("button", name="Tell me about cats")).not_to_have_count(0)
    expect(conversations.get_by_role("button", name="Tell me about dogs")).to_have_count(0)


def test_a_provider_failure_shows_a_banner_keeps_the_message_and_resends(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    fake_openai.behaviour.status = 503
    send(page, "Are you there?")
    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(re.compile(r"error \(503\)|unavailable|try again", re.I))
    expect(page.locator("#messages .message.user.failed")).to_have_text("Are you there?")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()

    fake_openai.behaviour.status = 200
    fake_openai.behaviour.reply = "Yes, back again!"
    banner.get_by_role("button", name="Resend").click()
    expect(assistant_messages(page).locator(".body")).to_have_text(["Yes, back again!"])
    expect(banner).to_be_hidden()
    expect(page.locator("#messages .message.user")).to_have_count(1)
    expect(page.locator("#messages .message.failed")).to_have_count(0)


def test_html_and_script_in_a_reply_render_as_text(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    fake_openai.behaviour.reply = (
        "<script>window.pwned = 1; alert('script')</script> "
        "<img src=x onerror=\"window.pwned = 2; alert('img')\"> "
        "[click](javascript:alert('link')) and `<b>code</b>`"
    )
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Say something dangerous")
    reply = assistant_messages(page).first
    expect(reply).to_contain_text("<script>window.pwned = 1; alert('script')</script>")
    expect(reply).to_contain_text("<img src=x onerror=")
    expect(reply.locator("code")).to_have_text("<b>code</b>")
    for tag in ("script", "img", "b", "a[href^='javascript']"):
        expect(page.locator(f"#messages {tag}")).to_have_count(0)
    page.reload()  # the stored history renders just as safely
    expect(assistant_messages(page).first).to_contain_text("<img src=x onerror=")
    expect(page.locator("#messages img, #messages script")).to_have_count(0)
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.pwned") is None


def test_the_upload_button_posts_to_the_documents_api_and_reports_the_outcome(
    page: Page, tmp_path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Luma's favourite colour is teal.\n")
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    composer = page.locator("#composer")
    upload, box = composer.get_by_role("button", name="Upload"), composer.locator("textarea")
    assert upload.bounding_box()["height"] == box.bounding_box()["height"]
    send(page, "Here comes my file")  # within a conversation, still no conversation is posted
    expect(assistant_messages(page)).to_have_count(1)
    with page.expect_request(lambda r: r.url.endswith("/api/documents") and r.method == "POST"):
        with page.expect_file_chooser() as chooser:
            upload.click()
        chooser.value.set_files(str(notes))
    assert page.evaluate("window.formFields") == ["file"]  # the upload API takes no conversation_id
    item = page.locator("#messages .message.document")
    expect(item).to_contain_text("notes.txt")
    expect(item).to_contain_text(re.compile(r"notes\.txt: done · \d+ chunk"), timeout=15_000)


def test_a_refused_upload_shows_the_servers_reason(page: Page, tmp_path) -> None:
    binary = tmp_path / "program.exe"
    binary.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload").click()
    chooser.value.set_files(str(binary))
    item = page.locator("#messages .message.document.failed")
    expect(item).to_contain_text("program.exe: upload failed: ")
    expect(page.locator("#banner")).to_contain_text("Upload of program.exe failed")


def test_files_dropped_on_the_chat_are_uploaded_each_on_its_own_line(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    expect(page.locator("#upload-input")).to_have_attribute("multiple", "")
    drop_files(page, "#messages", {
        "chat-drop-one.txt": "Luma's theme song is called Starlight Relay.",
        "chat-drop-two.txt": "Luma's community is called the Lanterns.",
    }, lit="section.chat")  # fmt: skip
    items = page.locator("#messages .message.document")
    expect(items).to_have_count(2)
    for name in ("chat-drop-one.txt", "chat-drop-two.txt"):
        expect(items.filter(has_text=name)).to_contain_text(
            re.compile(re.escape(name) + r": done · 1 chunk"), timeout=15_000
        )


# ---- conversations that survive real models (issue 12) ------------------------------

THINKING = "The viewer asks about my day, so I will answer cheerfully and ask back."

# Records every text a reply's body showed, streaming included.
RECORD_REPLY_BODIES = """
window.replyBodies = [];
new MutationObserver(() => {
  for (const body of document.querySelectorAll("#messages .message.assistant.streaming .body")) {
    const text = body.textContent;
    if (window.replyBodies[window.replyBodies.length - 1] !== text) window.replyBodies.push(text);
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def expect_thinking_apart(reply) -> None:
    """A finished reasoning reply: its thinking collapsed under "Thought for…", the
    body the answer alone, and no Continue (it is complete)."""
    note = reply.locator("details.thinking")
    expect(note).to_have_count(1)
    expect(note).not_to_have_attribute("open", re.compile(".*"))  # collapsed
    expect(note.locator("summary")).to_have_text(
        re.compile(r"^Thought for (\d+ s|less than a second)$")
    )
    expect(note.locator(".thinking-text")).to_be_hidden()
    expect(note.locator(".thinking-text")).to_have_text(THINKING)
    expect(reply.locator(".body")).not_to_contain_text("viewer asks")
    expect(reply.locator(".body")).not_to_contain_text("think")
    expect(reply.locator(".reply-status")).to_have_count(0)


def test_a_reasoning_reply_shows_its_thinking_collapsed_apart_from_the_answer(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.behaviour.reply = "My day was **great**, thanks for asking! How was yours?"
    fake_openai.behaviour.reasoning = THINKING
    fake_openai.behaviour.reasoning_as = "tags"  # `<th` + `ink` + `>…`, 3 characters a chunk
    fake_openai.behaviour.chunk_delay = 0.08
    page.add_init_script(RECORD_REPLY_BODIES)
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "How was your day?")

    streaming = page.locator("#messages .message.streaming")
    live = streaming.locator("details.thinking")
    expect(live.locator("summary")).to_have_text("Thinking…")
    expect(live.locator(".thinking-text")).to_contain_text("The viewer asks")
    expect(streaming.locator(".body")).to_have_text("")  # no thinking in the reply's text

    reply = assistant_messages(page).first
    expect(reply.locator(".body")).to_have_text(
        "My day was great, thanks for asking! How was yours?"
    )
    expect(reply.locator(".body strong")).to_have_text("great")
    bodies = page.evaluate("window.replyBodies")
    # it streamed word by word (as rendered Markdown: the text so far, as HTML)…
    assert "My day was" in [b.strip() for b in bodies]
    assert [b for b in bodies if "viewer" in b or "think" in b or "<" in b] == []  # …answer only
    expect_thinking_apart(reply)
    page.reload()  # the stored reply shows the same
    page.wait_for_load_state("networkidle")
    expect_thinking_apart(assistant_messages(page).first)
    # About 25 chunks of thinking at 80 ms each: a couple of seconds, shown as such.
    summary = assistant_messages(page).first.locator("details.thinking summary")
    assert re.fullmatch(r"Thought for [1-9]\d* s", summary.inner_text()), summary.inner_text()
    summary.click()
    expect(assistant_messages(page).first.locator(".thinking-text")).to_be_visible()


def test_a_cut_off_reply_offers_continue_which_extends_the_same_message(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.behaviour.reply = "The three best games of the year are"
    fake_openai.behaviour.finish_reason = "length"
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Which games should I play?")

    reply = assistant_messages(page).first
    expect(reply.locator(".body")).to_have_text("The three best games of the year are")
    status = reply.locator(".reply-status")
    expect(status).to_contain_text("Cut off")
    continue_button = status.get_by_role("button", name="Continue")
    expect(continue_button).to_be_visible()
    reply_id = reply.get_attribute("data-id")

    fake_openai.behaviour.reply = " Celeste, Hades and Outer Wilds, in that order."
    fake_openai.behaviour.finish_reason = "stop"
    fake_openai.behaviour.chunk_delay = 0.15
    continue_button.click()

    growing = page.locator(f"#messages .message.streaming[data-id='{reply_id}']")
    expect(growing.locator(".body")).to_contain_text("The three best games of the year are Celeste")
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)  # hidden while busy
    finished = "The three best games of the year are Celeste, Hades and Outer Wilds, in that order."
    expect(page.locator("#messages .message.assistant")).to_have_count(1)  # the same message
    expect(assistant_messages(page).first.locator(".body")).to_have_text(finished)
    expect(assistant_messages(page).first).to_have_attribute("data-id", reply_id or "")
    expect(page.locator("#messages .reply-status")).to_have_count(0)
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()

    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#messages .message.assistant")).to_have_count(1)
    expect(assistant_messages(page).first.locator(".body")).to_have_text(finished)
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)


def test_continue_is_offered_on_the_last_reply_only(
    page: Page, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.behaviour.reply = "A list that never got to its"
    fake_openai.behaviour.finish_reason = "length"
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Make me a list")
    first = assistant_messages(page).first
    expect(first.get_by_role("button", name="Continue")).to_be_visible()

    fake_openai.behaviour.finish_reason = "stop"
    fake_openai.behaviour.reply = "Never mind, here is something else."
    send(page, "Never mind the list")
    expect(assistant_messages(page)).to_have_count(2)
    expect(assistant_messages(page).last.locator(".body")).to_have_text(
        "Never mind, here is something else."
    )
    expect(first.locator(".reply-status")).to_contain_text("Cut off")  # still marked…
    expect(first.get_by_role("button", name="Continue")).to_be_hidden()  # …but not the last
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)  # none is offered
