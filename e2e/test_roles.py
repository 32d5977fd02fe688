"""What each role sees in a real browser: links, buttons and the 403 page."""

import pytest
from playwright.sync_api import expect

from e2e.conftest import logged_in_page

pytestmark = pytest.mark.browser


def test_a_viewer_sees_no_settings_admin_or_upload_and_gets_a_clear_403(browser, live_luma):
    page = logged_in_page(browser, live_luma, "vee")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.reload()  # the chat without an upload button runs without script errors
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Chat")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)

    response = page.goto("/settings/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Only the owner can change the settings.")).to_be_visible()

    page.goto("/memory/")
    expect(page.get_by_role("heading", name="What Luma remembers about you")).to_be_visible()
    expect(page.locator("#add-subject option[value=everyone]")).to_have_count(0)
    page.goto("/documents/")
    expect(page.locator("#uploads-off")).to_be_visible()
    assert not errors, f"script errors on the page: {errors}"
    page.context.close()


def test_a_moderator_reaches_the_admin_for_memories_and_documents_only(browser, live_luma):
    page = logged_in_page(browser, live_luma, "modi", moderator=True)
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    page.get_by_role("link", name="Admin").click()
    expect(page.locator("#memories-memory")).to_be_visible()
    expect(page.locator("#documents-document")).to_be_visible()
    expect(page.get_by_role("link", name="Runtime settings")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    page.context.close()
