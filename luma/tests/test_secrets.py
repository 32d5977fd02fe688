"""The DeepSeek key and the Discord token never leave the server."""

import logging

import pytest

from chat.services import Speaker, conversation_for_owner, conversation_reply
from luma.services import runtime_settings_update
from luma.tests.urlwalk import api_operations, page_urls
from providers.errors import ProviderError

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
