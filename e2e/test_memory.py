"""Memory in a real browser: the panel (search, edit, delete, review) and the
suggestions beside the chat."""

from playwright.sync_api import Page, expect

from e2e.conftest import USERNAME, LiveLuma


def test_a_suggestion_is_approved_from_the_chat_side_panel(page: Page, live_luma: LiveLuma) -> None:
    live_luma.seed("settings", memory_suggestions_enabled=True)
    approved = live_luma.seed(
        "suggestion", content="The streamer's cat is called Miso.", importance=7,
        subject_username=USERNAME,
    )  # fmt: skip
    edited = live_luma.seed(
        "suggestion", content="The streamer likes teh rain.", importance=6,
        subject_username=USERNAME,
    )  # fmt: skip
    page.goto("/")
    panel = page.get_by_role("complementary", name="Memory suggestions")
    miso = panel.locator(".suggestion", has_text="called Miso")
    miso.get_by_role("button", name="Approve").click()
    expect(miso).to_have_count(0)
    assert live_luma.seed("memory_get", memory_id=approved["id"])["status"] == "approved"

    rain = panel.locator(f".suggestion[data-id='{edited['id']}']")
    rain.get_by_role("button", name="Edit").click()
    rain.get_by_label("Suggestion text").fill("The streamer likes the rain.")
    rain.get_by_role("button", name="Save & approve").click()
    expect(rain).to_have_count(0)
    stored = live_luma.seed("memory_get", memory_id=edited["id"])
    assert (stored["status"], stored["content"]) == ("approved", "The streamer likes the rain.")

    rejected = live_luma.seed(
        "suggestion", content="The streamer hates Mondays.", subject_username=USERNAME
    )  # fmt: skip
    page.reload()
    mondays = panel.locator(f".suggestion[data-id='{rejected['id']}']")
    mondays.get_by_role("button", name="Reject").click()
    expect(mondays).to_have_count(0)
    expect(panel.locator("#suggestions-empty")).to_be_visible()
    assert live_luma.seed("memory_get", memory_id=rejected["id"])["status"] == "rejected"


def test_the_memory_panel_searches_edits_and_deletes(page: Page, live_luma: LiveLuma) -> None:
    made = [
        live_luma.seed("memory", content=content, importance=importance, tags=["e2e"])
        for content, importance in [
            ("Luma's favourite snack is melon bread.", 6),
            ("Luma streams speedruns on Fridays.", 8),
            ("The community mascot is a purple axolotl.", 4),
        ]
    ]
    page.goto("/memory/")
    results = page.locator("#memory-list")
    page.get_by_label("Search").press_sequentially("axolotl", delay=20)
    expect(results.locator(".memory").first).to_contain_text("purple axolotl")
    expect(results).not_to_contain_text("melon bread")

    axolotl = results.locator(f".memory[data-id='{made[2]['id']}']")
    axolotl.get_by_role("button", name="Edit").click()
    axolotl.get_by_label("Memory text").fill("The community mascot is a pink axolotl named Pip.")
    axolotl.get_by_label("Importance").fill("9")
    axolotl.get_by_label("Tags").fill("e2e, mascot")
    axolotl.get_by_role("button", name="Save").click()
    expect(axolotl).to_contain_text("pink axolotl named Pip")
    expect(axolotl).to_contain_text("importance 9")
    expect(axolotl).to_contain_text("#e2e #mascot")

    page.reload()
    page.get_by_label("Search").fill("Pip")
    pip = results.locator(f".memory[data-id='{made[2]['id']}']")
    expect(pip).to_contain_text("importance 9")
    pip.get_by_role("button", name="Delete").click()
    pip.get_by_role("button", name="Keep it").click()
    expect(pip).to_be_visible()
    pip.get_by_role("button", name="Delete").click()
    pip.get_by_role("button", name="Yes, delete").click()
    expect(pip).to_have_count(0)
    page.reload()
    page.get_by_label("Search").fill("Pip")
    expect(page.locator("#result-summary")).to_have_text("No memories match.")

    page.get_by_label("Search").fill("")
    page.get_by_label("Importance at least").select_option("8")
    expect(results.locator(".memory", has_text="speedruns on Fridays")).to_be_visible()
    expect(results).not_to_contain_text("melon bread")


def test_pending_suggestions_can_be_reviewed_in_bulk_in_the_panel(
    page: Page, live_luma: LiveLuma
) -> None:
    first = live_luma.seed("suggestion", content="Bulk fact one about the stream.")
    second = live_luma.seed("suggestion", content="Bulk fact two about the stream.")
    page.goto("/memory/")
    pending = page.locator("#suggestion-list")
    for text in ("Bulk fact one", "Bulk fact two"):
        pending.locator(".memory", has_text=text).get_by_role("checkbox").check()
    page.get_by_role("button", name="Reject selected").click()
    expect(pending.locator(".memory", has_text="Bulk fact")).to_have_count(0)
    for made in (first, second):
        assert live_luma.seed("memory_get", memory_id=made["id"])["status"] == "rejected"


def test_a_suggestion_is_approved_edited_or_rejected_one_by_one_in_the_panel(
    page: Page, live_luma: LiveLuma
) -> None:
    kept = live_luma.seed("suggestion", content="Single fact: Luma likes tea.", tags=["drinks"])
    fixed = live_luma.seed("suggestion", content="Single fact: Luma likes cofee.")
    dropped = live_luma.seed("suggestion", content="Single fact: Luma hates tea.")
    page.goto("/memory/")
    pending = page.locator("#suggestion-list")
    count = page.locator("#suggestion-count")
    expect(pending.locator(".memory.pending", has_text="Single fact")).to_have_count(3)
    expect(pending.locator(f".memory[data-id='{kept['id']}']")).to_contain_text("#drinks")

    pending.locator(f".memory[data-id='{kept['id']}']").get_by_role(
        "button", name="Approve"
    ).click()
    expect(pending.locator(f".memory[data-id='{kept['id']}']")).to_have_count(0)

    coffee = pending.locator(f".memory[data-id='{fixed['id']}']")
    coffee.get_by_role("button", name="Edit").click()
    coffee.get_by_role("button", name="Cancel").click()
    expect(coffee.locator(".content")).to_have_text("Single fact: Luma likes cofee.")
    coffee.get_by_role("button", name="Edit").click()
    coffee.get_by_label("Memory text").fill("Single fact: Luma likes coffee.")
    coffee.get_by_label("Importance").fill("8")
    coffee.get_by_role("button", name="Save & approve").click()
    expect(coffee).to_have_count(0)

    pending.locator(f".memory[data-id='{dropped['id']}']").get_by_role(
        "button", name="Reject"
    ).click()
    expect(pending.locator(".memory", has_text="Single fact")).to_have_count(0)
    expect(count).to_have_text(str(pending.locator(".memory").count()))
    assert live_luma.seed("memory_get", memory_id=kept["id"])["status"] == "approved"
    stored = live_luma.seed("memory_get", memory_id=fixed["id"])
    assert (stored["status"], stored["content"]) == ("approved", "Single fact: Luma likes coffee.")
    assert live_luma.seed("memory_get", memory_id=dropped["id"])["status"] == "rejected"
    page.get_by_label("Search").fill("Single fact")  # approved ones join the memories
    expect(page.locator("#memory-list")).to_contain_text("Luma likes coffee.")


def test_selected_suggestions_are_approved_in_bulk(page: Page, live_luma: LiveLuma) -> None:
    made = [live_luma.seed("suggestion", content=f"Approved in bulk number {n}.") for n in (1, 2)]
    page.goto("/memory/")
    pending = page.locator("#suggestion-list")
    # The list loads after the page: "Select all" of an empty list selects nothing.
    expect(pending.locator(".memory", has_text="Approved in bulk")).to_have_count(2)
    expect(page.get_by_role("button", name="Approve selected")).to_be_disabled()
    page.get_by_label("Select all").check()
    expect(pending.locator(".pick:not(:checked)")).to_have_count(0)
    page.get_by_role("button", name="Approve selected").click()
    expect(pending.locator(".memory", has_text="Approved in bulk")).to_have_count(0)
    expect(page.locator("#no-suggestions")).to_be_visible()
    expect(page.locator("#suggestion-count")).to_have_text("0")
    for memory in made:
        assert live_luma.seed("memory_get", memory_id=memory["id"])["status"] == "approved"


def test_a_suggestion_from_the_conversation_appears_beside_the_chat(
    page: Page, live_luma: LiveLuma, fake_openai
) -> None:
    live_luma.seed("settings", memory_suggestions_enabled=True, memory_suggestion_threshold=3)
    # The fake model answers the chat and the suggestion request alike, with this JSON.
    fake_openai.behaviour.reply = (
        '{"memories": [{"content": "The streamer has a corgi called Biscuit.", '
        '"importance": 8, "tags": ["pets"], "about": "speaker"}]}'
    )
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    box = page.get_by_role("textbox", name="Message")
    box.fill("My corgi is called Biscuit!")
    box.press("Enter")
    panel = page.get_by_role("complementary", name="Memory suggestions")
    expect(panel.locator(".suggestion", has_text="corgi called Biscuit")).to_be_visible()


def test_a_reply_shows_the_memories_it_used(page: Page, live_luma: LiveLuma, fake_openai) -> None:
    live_luma.seed(
        "memory", content="The streamer's favourite tea is genmaicha.", importance=9,
        subject_username=USERNAME,
    )  # fmt: skip
    fake_openai.behaviour.reply = "Genmaicha, of course!"
    page.goto("/")
    page.get_by_role("button", name="+ New chat").click()
    box = page.get_by_role("textbox", name="Message")
    box.fill("Which tea do I like? genmaicha?")
    box.press("Enter")
    reply = page.locator("#messages .message.assistant:not(.streaming)")
    used = reply.locator("details.memories-used")
    expect(used.locator("summary")).to_contain_text("Used")
    used.locator("summary").click()
    expect(used).to_contain_text("favourite tea is genmaicha")
    page.reload()
    reply.locator("details.memories-used summary").click()
    expect(reply.locator("details.memories-used")).to_contain_text("favourite tea is genmaicha")
