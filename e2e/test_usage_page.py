"""The usage page in a real browser: a chart and totals, by provider and model."""

from playwright.sync_api import Page, expect

from e2e.test_chat import assistant_messages, send


def test_usage_shows_a_chart_and_totals_by_provider_and_model(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    send(page, "Count my tokens")
    expect(assistant_messages(page)).to_have_count(1)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Token usage")).to_be_visible()
    expect(page.locator("#usage-chart rect").first).to_be_visible()
    expect(page.locator(".legend")).to_contain_text("deepseek")
    row = page.locator("#usage-table tbody tr", has_text="fake-chat")
    expect(row).to_contain_text("deepseek")
    assert int(page.locator("#total-tokens").inner_text()) > 0
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "true")
    expect(page.locator("#usage-chart rect").first).to_be_visible()
