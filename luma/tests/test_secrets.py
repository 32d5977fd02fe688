"""The DeepSeek key and the Discord token never leave the server."""

import logging

import pytest

from chat.services import Speaker, conversation_for_owner, conversation_reply
from luma.services import runtime_settings_get, runtime_settings_update
from luma.tests.urlwalk import api_operations, page_urls
from providers.errors import ProviderError
from providers.testing.fakes import FakeOpenAIServer

DEEPSEEK_KEY = "sk-never-show-this-0123456789abcdef"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.never-show.this-discord-token"


@pytest.fixture
def secrets_configured(db, settings, openai_server):
    settings.DISCORD_TOKEN = DISCORD_TOKEN
    runtime_settings_update(
        provider="deepseek",
        deepseek_api_key=DEEPSEEK_KEY,
        deepseek_base_url=openai_server.base_url,
        deepseek_model="fake-chat",
    )


def assert_no_secret(text: str, where: str) -> None:
    for secret in (DEEPSEEK_KEY, DISCORD_TOKEN):
        assert secret not in text, f"{where} shows a secret"
        assert secret[-12:] not in text, f"{where} shows most of a secret"


@pytest.mark.parametrize("url", page_urls())
def test_no_page_shows_a_secret(secrets_configured, admin_client, url):
    response = admin_client.get(url, follow=True)
    assert_no_secret(response.content.decode(errors="replace"), url)


@pytest.mark.parametrize(("method", "url"), [op for op in api_operations() if op[0] == "GET"])
def test_no_api_response_shows_a_secret(secrets_configured, admin_client, method, url):
    response = admin_client.get(url)
    assert_no_secret(response.content.decode(errors="replace"), url)


def test_a_refused_key_is_not_logged(secrets_configured, openai_server, user, caplog):
    openai_server.behaviour.status = 401
    caplog.set_level(logging.DEBUG)
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    with pytest.raises(ProviderError) as raised:
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")
    assert_no_secret(caplog.text, "the log")
    assert_no_secret(f"{raised.value.message} {raised.value.detail}", "the error")


def chat_once(user) -> None:
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")


def keys_received(server: FakeOpenAIServer) -> list[str]:
    return [request["headers"].get("authorization", "") for request in server.requests]


@pytest.mark.parametrize("client_fixture", ["user_client", "moderator_client"])
def test_a_viewer_or_moderator_cannot_send_the_key_to_their_own_server(
    request, secrets_configured, openai_server, client_fixture, user
):
    """The exfiltration path: point the base URL at a server of one's own, then chat."""
    client = request.getfixturevalue(client_fixture)
    with FakeOpenAIServer() as attacker:
        api = client.put("/api/settings", {"deepseek_base_url": attacker.base_url},
                         content_type="application/json")  # fmt: skip
        page = client.post("/settings/", {"deepseek_base_url": attacker.base_url})
        listed = client.get("/api/models/available")
        chat_once(user)
    assert (api.status_code, page.status_code, listed.status_code) == (403, 403, 403)
    assert attacker.requests == []
    assert keys_received(openai_server) == [f"Bearer {DEEPSEEK_KEY}"]


def test_moving_the_base_url_needs_the_key_again(
    secrets_configured, openai_server, admin_client, user
):
    """A stolen owner session cannot redirect the stored key without knowing it."""
    with FakeOpenAIServer() as elsewhere:
        moved = admin_client.put("/api/settings", {"deepseek_base_url": elsewhere.base_url},
                                 content_type="application/json")  # fmt: skip
        assert moved.status_code == 400
        assert "Enter the API key again" in moved.json()["message"]
        assert runtime_settings_get().deepseek_base_url == openai_server.base_url
        chat_once(user)
        assert elsewhere.requests == []

        with_key = admin_client.put(
            "/api/settings",
            {"deepseek_base_url": elsewhere.base_url, "deepseek_api_key": "sk-entered-again-42"},
            content_type="application/json",
        )
        assert with_key.status_code == 200
        chat_once(user)
        assert keys_received(elsewhere) == ["Bearer sk-entered-again-42"]
    assert keys_received(openai_server) == [f"Bearer {DEEPSEEK_KEY}"]


def test_the_settings_page_and_the_admin_ask_for_the_key_too(secrets_configured, admin_client):
    row = runtime_settings_get()
    fields = {
        f: getattr(row, f)
        for f in ("provider", "deepseek_model", "ollama_endpoint", "ollama_model",
                  "ollama_embedding_model", "temperature", "max_tokens",
                  "memory_context_limit", "memory_suggestion_threshold")
    }  # fmt: skip
    page = admin_client.post("/settings/", {**fields, "deepseek_base_url": "http://elsewhere:1/v1"})
    assert page.status_code == 200 and page.context["form"].errors["deepseek_api_key"]
    admin_form = admin_client.post(
        f"/admin/luma/runtimesettings/{row.pk}/change/",
        {**fields, "deepseek_base_url": "http://elsewhere:1/v1", "fallback_provider": ""},
    )
    assert admin_form.status_code == 200
    assert "Enter the API key again" in admin_form.content.decode()
    assert runtime_settings_get().deepseek_base_url == row.deepseek_base_url


def test_the_masked_key_sent_back_never_replaces_the_key(secrets_configured, admin_client):
    """MineContext PR #15: a client that round-trips the masked value must not store it."""
    masked = admin_client.get("/api/settings").json()["deepseek_api_key_masked"]
    saved = admin_client.put("/api/settings", {"deepseek_api_key": masked, "temperature": 0.4},
                             content_type="application/json")  # fmt: skip
    assert saved.status_code == 200
    assert runtime_settings_get().deepseek_api_key == DEEPSEEK_KEY
    moved = admin_client.put(
        "/api/settings",
        {"deepseek_api_key": masked, "deepseek_base_url": "http://elsewhere:1/v1"},
        content_type="application/json",
    )
    assert moved.status_code == 400  # the masked value is not the key entered again
    row = runtime_settings_get()
    admin_form = admin_client.post(
        f"/admin/luma/runtimesettings/{row.pk}/change/",
        {f: getattr(row, f) for f in ("provider", "deepseek_base_url", "deepseek_model",
                                      "ollama_endpoint", "ollama_model", "ollama_embedding_model",
                                      "temperature", "max_tokens",
                                      "memory_context_limit", "memory_suggestion_threshold")}
        | {"deepseek_api_key": masked, "fallback_provider": ""},
    )  # fmt: skip
    assert admin_form.status_code == 302
    assert runtime_settings_get().deepseek_api_key == DEEPSEEK_KEY


def test_a_base_url_smuggled_into_a_chat_or_model_list_request_is_ignored(
    secrets_configured, openai_server, admin_client
):
    """browser-use/web-ui #168, LibreChat PR #13842: the request names no server."""
    with FakeOpenAIServer() as attacker:
        chat = admin_client.post("/api/chat", {"message": "hi", "base_url": attacker.base_url},
                                 content_type="application/json")  # fmt: skip
        admin_client.get(f"/api/models/available?base_url={attacker.base_url}")
    assert chat.status_code == 200
    assert attacker.requests == []
    assert f"Bearer {DEEPSEEK_KEY}" in keys_received(openai_server)
