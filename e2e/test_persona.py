"""The persona in a real browser: a card imported on the settings page names the chat."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from persona.models import DEFAULT_DESCRIPTION
from persona.tests.cards import b64, png, v2_card

RESTORE = """async (body) => {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const headers = {"X-CSRFToken": csrf, "Content-Type": "application/json"};
  await fetch("/api/persona", {method: "PUT", headers, body: JSON.stringify(body)});
  await fetch("/api/persona/avatar", {method: "DELETE", headers});
  const page = await (await fetch("/api/chat/conversations?limit=100")).json();
  for (const chat of page.items || page) {
    if ((chat.title || "").startsWith("hello zephyrine")) {
      await fetch(`/api/chat/conversations/${chat.id}`, {method: "DELETE", headers});
    }
  }
  localStorage.clear();
}"""


@pytest.fixture
def persona_restored(page: Page) -> Iterator[None]:
    """The live server is shared: the persona goes back to Luma's after the test, and its
    chat is deleted."""
    yield
    page.goto("/settings/")
    page.evaluate(
        RESTORE,
        {"name": "Luma", "description": DEFAULT_DESCRIPTION, "personality": "", "scenario": "",
         "greeting": "", "example_dialogue": "", "system_prompt": "",
         "post_history_instructions": ""},
    )  # fmt: skip


def test_a_card_imported_on_the_settings_page_names_the_persona_on_the_chat_page(
    page: Page, tmp_path: Path, persona_restored: None
) -> None:
    card = tmp_path / "Zephyrine.png"
    document = v2_card(name="Zephyrine", first_mes="Hey {{user}}, Zephyrine here.")
    card.write_bytes(png({"chara": b64(document)}, colour=(30, 160, 90)))

    page.goto("/settings/")
    page.locator("#persona-card-input").set_input_files(str(card))
    expect(page.locator("#persona-card-status")).to_contain_text("Imported Zephyrine")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Zephyrine")
    expect(page.locator(".brand")).to_contain_text("Zephyrine")
    expect(page.locator("#persona-avatar")).to_have_attribute(
        "src", re.compile(r"/persona/avatar/\w+\.png")
    )

    page.goto("/")
    expect(page).to_have_title("Chat · Zephyrine")
    page.get_by_role("button", name="+ New chat").click()
    greeting = page.locator("#messages .message.assistant").first
    expect(greeting.locator(".speaker")).to_have_text("Zephyrine")
    expect(greeting.locator(".body")).to_contain_text("Zephyrine here.")
    expect(page.get_by_placeholder("Message Zephyrine…")).to_be_visible()
    avatar = greeting.locator(".speaker .avatar")
    assert "/persona/avatar/" in avatar.evaluate("node => getComputedStyle(node).backgroundImage")

    page.get_by_placeholder("Message Zephyrine…").fill("hello zephyrine")
    page.keyboard.press("Enter")
    replies = page.locator("#messages .message.assistant:not(.streaming)")
    expect(replies).to_have_count(2)
    expect(replies.nth(1).locator(".speaker")).to_have_text("Zephyrine")


def test_the_owner_edits_the_persona_fields_and_a_bad_card_is_explained(
    page: Page, tmp_path: Path, persona_restored: None
) -> None:
    page.goto("/settings/")
    page.get_by_label("Name", exact=True).fill("Orla")
    page.get_by_label("Scenario").fill("A quiet lighthouse stream.")
    page.get_by_role("button", name="Save persona").click()
    expect(page.locator("#persona-status")).to_have_text("Persona saved.")
    page.reload()
    expect(page.get_by_label("Scenario")).to_have_value("A quiet lighthouse stream.")

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"spec": "chara_card_v9", "data": {}}))
    page.locator("#persona-card-input").set_input_files(str(broken))
    expect(page.locator("#persona-card-status")).to_contain_text("Unknown card format")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Orla")
