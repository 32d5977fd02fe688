"""The settings page in a real browser: provider fields, the live Ollama model list,
the masked key, refused values and Test connection."""

import re

from playwright.sync_api import Page, expect

from e2e.conftest import LiveLuma
from providers.testing.fakes import FakeOllamaServer


def section(page: Page, provider: str):
    return page.locator(f".provider-fields[data-provider='{provider}']")


def test_the_provider_choice_shows_its_own_fields_on_load_and_on_change(page: Page) -> None:
    page.goto("/settings/")
    expect(page.get_by_label("DeepSeek (or any OpenAI-compatible API)")).to_be_checked()
    expect(section(page, "deepseek")).to_be_visible()
    expect(section(page, "ollama")).to_be_hidden()
    expect(page.locator("#key-masked")).to_have_text("sk-…9876")
    expect(page.get_by_label("DeepSeek API key")).to_have_value("")
    assert "sk-e2e-secret-key-9876" not in page.content()

    page.get_by_label("Ollama").check()
    expect(section(page, "ollama")).to_be_visible()
    expect(section(page, "deepseek")).to_be_hidden()
    page.get_by_label("Built-in demo model").check()
    expect(section(page, "builtin")).to_be_visible()
    expect(section(page, "ollama")).to_be_hidden()


def test_the_ollama_dropdown_lists_the_servers_models(
    page: Page, live_luma: LiveLuma, fake_ollama: FakeOllamaServer
) -> None:
    live_luma.seed(
        "settings", provider="ollama", ollama_endpoint=fake_ollama.url, ollama_model="qwen3:4b"
    )
    page.goto("/settings/")
    models = page.get_by_label("Model", exact=True).and_(page.locator("select"))
    expect(models.locator("option")).to_have_text(["llama3.2:latest", "qwen3:4b"])
    expect(models).to_have_value("qwen3:4b")
    expect(page.locator("#models-status")).to_contain_text("2 models")

    fake_ollama.behaviour.models = ["llama3.2:latest", "qwen3:4b", "mistral:7b"]
    page.get_by_role("button", name="Refresh").click()
    expect(models.locator("option")).to_have_count(3)
    models.select_option("mistral:7b")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Settings saved")
    expect(models).to_have_value("mistral:7b")


def test_the_ollama_dropdown_says_clearly_when_no_endpoint_answers(
    page: Page, live_luma: LiveLuma
) -> None:
    live_luma.seed("settings", provider="ollama", ollama_endpoint="http://127.0.0.1:9")
    page.goto("/settings/")
    expect(page.locator("#models-status")).to_contain_text("Could not reach")
    expect(page.locator("#models-status")).to_contain_text("ollama serve")


def test_invalid_values_are_refused_next_to_the_field_and_the_key_stays_masked(
    page: Page,
) -> None:
    page.goto("/settings/")
    page.get_by_label("Temperature").fill("7")
    page.get_by_label("Base URL").fill("ftp://nowhere")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#field-temperature .field-error")).to_contain_text("less than or equal")
    expect(page.locator("#field-deepseek_base_url .field-error")).to_contain_text("http://")
    expect(page.locator("#key-masked")).to_have_text("sk-…9876")

    page.get_by_label("Temperature").fill("0.3")
    page.get_by_label("Base URL").fill("http://127.0.0.1:1/v1")
    page.get_by_label("DeepSeek API key").fill("sk-brand-new-key-5555")
    page.get_by_label("Let the AI suggest memories").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Settings saved")
    expect(page.locator("#key-masked")).to_have_text("sk-…5555")
    expect(page.get_by_label("Temperature")).to_have_value("0.3")
    expect(page.get_by_label("Let the AI suggest memories")).to_be_checked()
    assert "sk-brand-new-key-5555" not in page.content()


def test_test_connection_shows_what_the_server_answered_for_the_form_as_typed(
    page: Page, fake_ollama: FakeOllamaServer
) -> None:
    page.goto("/settings/")
    page.get_by_label("Ollama").check()
    page.get_by_label("Endpoint").fill(f" {fake_ollama.url}/api/chat ")
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-status")
    expect(result).to_contain_text(f"Connected: {fake_ollama.url} lists 2 models")
    expect(result).not_to_have_class(re.compile(r"\berror\b"))

    page.get_by_label("Endpoint").fill(f"{fake_ollama.url}/ollama")
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("The address looks wrong")
    expect(result).to_have_class(re.compile(r"\berror\b"))

    page.get_by_label("DeepSeek (or any OpenAI-compatible API)").check()
    page.get_by_label("DeepSeek API key").fill("sk-typed-<b>not-html</b>")
    page.get_by_label("Base URL").fill(f"{fake_ollama.url}/v1")
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("The address looks wrong")
    assert "sk-typed" not in page.content()
