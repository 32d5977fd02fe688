"""What the AI may remember, in a real browser: the owner's rules and blocklist on the
settings page, and what was withheld shown by kind on the settings and memory pages."""

import json

from playwright.sync_api import Page, expect

from e2e.conftest import LiveLuma
from e2e.test_chat import assistant_messages, send
from providers.testing.fakes import FakeOpenAIServer

RULE = "Never remember anything about other viewers' real-life location."


def test_the_owner_writes_rules_and_a_blocklist_that_stay_after_saving(
    page: Page, live_luma: LiveLuma
) -> None:
    page.goto("/settings/")
    page.get_by_label("What is worth remembering").fill(RULE)
    page.get_by_label("Never remember (blocklist)").fill("Maplewood\nKai's school")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Settings saved")

    page.reload()
    expect(page.get_by_label("What is worth remembering")).to_have_value(RULE)
    expect(page.get_by_label("Never remember (blocklist)")).to_have_value("Maplewood\nKai's school")
    live_luma.seed("settings", memory_rules="", memory_blocklist="")


def test_a_line_too_long_is_refused_next_to_its_field(page: Page) -> None:
    page.goto("/settings/")
    page.get_by_label("Never remember (blocklist)").fill("x" * 201)
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#field-memory_blocklist .field-error")).to_contain_text(
        "Line 1 of the blocklist entries is 201 characters long"
    )


def test_withheld_suggestions_are_shown_by_kind_never_their_text(
    page: Page, live_luma: LiveLuma, fake_openai: FakeOpenAIServer
) -> None:
    live_luma.seed("settings", memory_suggestions_enabled=True, memory_blocklist="Maplewood")
    fake_openai.behaviour.reply = json.dumps(
        {
            "memories": [
                {"content": "The streamer's password is hunter2.", "importance": 8},
                {"content": "The streamer went to Maplewood High.", "importance": 8},
                {"content": "The streamer has a cat named Tofu.", "importance": 8},
            ]
        }
    )
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Guess what, my cat is called Tofu!")
    expect(assistant_messages(page)).to_have_count(1)

    page.goto("/settings/")
    summary = page.locator("#withheld-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("2 suggestions were withheld")
    expect(summary).to_contain_text("password: 1")
    expect(summary).to_contain_text("blocked word or phrase: 1")

    page.goto("/memory/")
    expect(page.get_by_text("withheld as private")).to_be_visible()
    expect(page.get_by_text("The streamer has a cat named Tofu.").first).to_be_visible()
    assert "hunter2" not in page.content() and "Maplewood High" not in page.content()
    live_luma.seed("settings", memory_blocklist="")
