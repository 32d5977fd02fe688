import pytest

from luma.services import runtime_settings_update
from providers.testing.fakes import free_port


def by_provider(response) -> dict:
    return {entry["provider"]: entry for entry in response.json()}


def test_it_lists_each_providers_models(use_ollama, admin_client, openai_server, ollama_server):
    runtime_settings_update(deepseek_api_key="sk-listing", deepseek_base_url=openai_server.base_url)
    ollama_server.behaviour.models = ["llama3.2:latest", "qwen3:8b"]

    entries = by_provider(admin_client.get("/api/models/available"))

    assert entries["ollama"]["models"] == ["llama3.2:latest", "qwen3:8b"]
    assert entries["ollama"]["active"] is True
    assert entries["ollama"]["endpoint"] == ollama_server.url
    assert entries["deepseek"]["models"] == ["fake-chat", "fake-small"]
    assert entries["builtin"]["models"] == ["SmolLM2-135M-Instruct"]
    assert all(entry["error"] is None for entry in entries.values())


@pytest.mark.django_db
def test_an_unreachable_provider_gets_an_error_entry(admin_client):
    runtime_settings_update(ollama_endpoint=f"http://127.0.0.1:{free_port()}")

    entries = by_provider(admin_client.get("/api/models/available"))

    assert entries["ollama"]["models"] == []
    assert "Could not reach" in entries["ollama"]["error"]
    assert "No DeepSeek API key" in entries["deepseek"]["error"]


def test_the_ollama_fallback_that_answered_is_reported(db, admin_client, ollama_server, settings):
    settings.LUMA_OLLAMA_FALLBACK_ENDPOINTS = [ollama_server.url]
    runtime_settings_update(ollama_endpoint=f"http://127.0.0.1:{free_port()}")

    entries = by_provider(admin_client.get("/api/models/available"))

    assert entries["ollama"]["endpoint"] == ollama_server.url
    assert entries["ollama"]["error"] is None


@pytest.mark.django_db
def test_listing_models_needs_a_login(client):
    assert client.get("/api/models/available").status_code == 401
