"""A memory's history in a real browser: open it on the memory panel, restore an
earlier version, say that a fact changed, and bring back a deleted memory."""

from playwright.sync_api import Page, expect

from e2e.conftest import LiveLuma


def test_a_memorys_history_opens_on_the_panel_and_restores_a_version(
    page: Page, live_luma: LiveLuma
) -> None:
    made = live_luma.seed("memory", content="Luma's favourite drink is green tea.", importance=6)
    page.goto("/memory/")
    card = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Memory text").fill("Luma's favourite drink is oolong tea.")
    card.get_by_role("button", name="Save", exact=True).click()
    expect(card.locator(".content")).to_have_text("Luma's favourite drink is oolong tea.")

    card.get_by_role("button", name="History").click()
    versions = card.locator(".history .version")
    expect(versions).to_have_count(2)
    expect(versions.first.locator(".badge")).to_have_text("edited")
    expect(versions.locator(".version-number")).to_have_text(["v2", "v1"])
    expect(versions.first).to_contain_text("by streamer · web page")
    expect(versions.first).to_contain_text("changed: content")
    expect(versions.nth(1)).to_contain_text("green tea")

    versions.nth(1).get_by_role("button", name="Restore this version").click()
    card = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    expect(card.locator(".content")).to_have_text("Luma's favourite drink is green tea.")
    assert live_luma.seed("memory_get", memory_id=made["id"])["content"] == (
        "Luma's favourite drink is green tea."
    )
    card.get_by_role("button", name="History").click()
    expect(card.locator(".history .version")).to_have_count(3)
    expect(card.locator(".history .version .badge").first).to_have_text("restored version 1")


def test_a_changed_fact_shows_what_it_was_and_a_deleted_memory_comes_back(
    page: Page, live_luma: LiveLuma
) -> None:
    made = live_luma.seed("memory", content="Luma's main game is Celeste.", importance=7)
    page.goto("/memory/")
    page.get_by_label("Search").press_sequentially("main game", delay=20)
    card = page.locator(f"#memory-list .memory[data-id='{made['id']}']")
    card.get_by_role("button", name="The fact changed").click()
    card.get_by_label("What is true now").fill("Luma's main game is Hollow Knight.")
    card.get_by_role("button", name="Save the new fact").click()
    newer = page.locator("#memory-list .memory", has_text="Hollow Knight")
    expect(newer.locator(".was")).to_have_text("was: Luma's main game is Celeste.")
    expect(card.locator(".past")).to_contain_text("No longer true since")

    newer.get_by_role("button", name="Delete").click()
    newer.get_by_role("button", name="Yes, delete").click()
    expect(page.locator("#memory-list .memory", has_text="Hollow Knight")).to_have_count(0)

    page.locator("#deleted-section summary").click()
    gone = page.locator("#deleted-section .memory", has_text="Hollow Knight")
    expect(gone).to_contain_text("deleted by streamer")
    gone.get_by_role("button", name="Restore").click()
    expect(gone).to_have_count(0)
    expect(page.locator("#memory-list .memory", has_text="Hollow Knight")).to_have_count(1)
