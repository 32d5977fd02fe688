"""Test connection (`POST /api/models/test`): what the server at the address the form
holds answers, before anything is saved; the stored key only goes where it was entered."""

import pytest

from luma.services import runtime_settings_get, runtime_settings_update
from providers.registry import provider_build
from providers.testing.fakes import FakeOpenAIServer, free_port

STORED_KEY = "sk-stored-secret-key-5678"


def post_connection_test(client, **body):
    return client.post("/api/models/test", body, content_type="application/json")


@pytest.fixture
def stored_key(db, openai_server):
    return runtime_settings_update(
        provider="deepseek",
        deepseek_api_key=STORED_KEY,
        deepseek_base_url=openai_server.base_url,
        deepseek_model="fake-chat",
    )


def test_it_lists_the_models_and_finds_the_chosen_one(admin_client, openai_server, stored_key):
    answer = post_connection_test(
        admin_client, provider="deepseek", address=openai_server.base_url + "/", model="fake-chat"
    ).json()
    assert answer["ok"] is True and answer["model_found"] is True
    assert answer["address"] == openai_server.base_url
    assert answer["models"] == ["fake-chat", "fake-small"]
    assert "2 models" in answer["message"] and "fake-chat among them" in answer["message"]
    assert openai_server.requests[-1]["headers"]["authorization"] == f"Bearer {STORED_KEY}"


def test_it_says_when_the_chosen_model_is_not_there(admin_client, ollama_server, db):
    answer = post_connection_test(
        admin_client, provider="ollama", address=f" {ollama_server.url}/api/tags ", model="qwen3"
    ).json()
    assert answer["ok"] is True and answer["model_found"] is False
    assert answer["address"] == ollama_server.url
    assert "not qwen3" in answer["message"] and "ollama pull qwen3" in answer["message"]


def test_ollama_names_without_latest_are_found(admin_client, ollama_server, db):
    ollama_server.behaviour.models = ["llama3.2:latest"]
    answer = post_connection_test(
        admin_client, provider="ollama", address=ollama_server.url, model="llama3.2"
    ).json()
    assert answer["model_found"] is True


def test_it_tests_what_the_form_holds_not_what_is_saved(admin_client, ollama_server, db):
    runtime_settings_update(ollama_endpoint=f"http://127.0.0.1:{free_port()}")
    answer = post_connection_test(admin_client, provider="ollama", address=ollama_server.url).json()
    assert answer["ok"] is True
    assert runtime_settings_get().ollama_endpoint != ollama_server.url  # nothing saved


def test_a_wrong_address_says_it_looks_wrong(admin_client, openai_server, stored_key):
    response = post_connection_test(
        admin_client, provider="deepseek", address=openai_server.url, api_key="sk-typed-now"
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is False and answer["model_found"] is None
    assert answer["message"].startswith("The address looks wrong:")
    assert "answered 404" in answer["message"]


def test_a_refused_key_says_so_and_never_echoes_it(admin_client, openai_server, stored_key):
    openai_server.behaviour.status = 401
    openai_server.behaviour.error_message = "Incorrect API key provided: sk-typed-wrong-key-1"
    response = post_connection_test(
        admin_client,
        provider="deepseek",
        address=openai_server.base_url,
        api_key="sk-typed-wrong-key-1",
    )
    answer = response.json()
    assert answer["ok"] is False and "API key was refused" in answer["message"]
    assert "sk-typed-wrong-key-1" not in response.content.decode()
    assert STORED_KEY not in response.content.decode()


def test_a_server_that_is_down_is_named(admin_client, db):
    address = f"http://127.0.0.1:{free_port()}"
    answer = post_connection_test(admin_client, provider="ollama", address=address).json()
    assert answer["ok"] is False
    assert f"Could not reach the Ollama server at {address}" in answer["message"]


def test_the_masked_key_means_the_stored_key(admin_client, openai_server, stored_key):
    masked = runtime_settings_get().deepseek_api_key_masked
    answer = post_connection_test(
        admin_client, provider="deepseek", address=openai_server.base_url, api_key=masked
    ).json()
    assert answer["ok"] is True
    assert openai_server.requests[-1]["headers"]["authorization"] == f"Bearer {STORED_KEY}"


def test_the_stored_key_is_not_sent_to_another_address(admin_client, stored_key):
    with FakeOpenAIServer() as elsewhere:
        response = post_connection_test(
            admin_client, provider="deepseek", address=elsewhere.base_url
        )
        assert response.status_code == 400
        assert "Enter the API key again" in response.json()["message"]
        assert elsewhere.requests == []
        typed = post_connection_test(
            admin_client, provider="deepseek", address=elsewhere.base_url, api_key="sk-new-1"
        )
        assert typed.json()["ok"] is True
        assert elsewhere.requests[-1]["headers"]["authorization"] == "Bearer sk-new-1"


def test_no_key_at_all_says_to_enter_one(admin_client, openai_server, db):
    answer = post_connection_test(
        admin_client, provider="deepseek", address=openai_server.base_url
    ).json()
    assert answer["ok"] is False and "No DeepSeek API key" in answer["message"]


def test_an_address_that_cannot_be_one_is_refused_with_the_form(admin_client, db):
    response = post_connection_test(admin_client, provider="ollama", address="not a url")
    assert response.status_code == 400
    assert "http://localhost:11434" in response.json()["message"]


def test_a_base_url_saved_with_its_route_still_chats(db, openai_server):
    """Rows saved before normalising (straight into the database) may hold a route."""
    row = runtime_settings_update(
        provider="deepseek", deepseek_api_key="sk-old-row", deepseek_model="fake-chat"
    )
    row.deepseek_base_url = openai_server.base_url + "/chat/completions/"
    row.save()
    assert provider_build(row).list_models() == ["fake-chat", "fake-small"]
