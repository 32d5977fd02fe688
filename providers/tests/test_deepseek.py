import pytest

from providers.adapters.deepseek import DeepSeekProvider
from providers.base import ChatOptions, Usage
from providers.errors import (
    MalformedResponse,
    ProviderAuthError,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownModel,
)
from providers.testing.fakes import FakeBehaviour, FakeOpenAIServer, free_port

MESSAGES = [{"role": "user", "content": "Say hello"}]


def provider_for(server: FakeOpenAIServer, timeout: float = 5) -> DeepSeekProvider:
    return DeepSeekProvider(
        api_key="sk-test", base_url=server.base_url, timeout=timeout, embedding_model="fake-chat"
    )


def test_it_streams_text_then_the_reported_usage(openai_server):
    openai_server.behaviour.reply = "Hi there, chat! How are you?"
    items = list(provider_for(openai_server).stream_chat(MESSAGES, ChatOptions(model="fake-chat")))

    text = [item for item in items if isinstance(item, str)]
    assert len(text) > 1
    assert "".join(text) == "Hi there, chat! How are you?"
    assert items[-1] == Usage(prompt_tokens=11, completion_tokens=len(text), estimated=False)


def test_it_sends_the_options_to_the_server(openai_server):
    options = ChatOptions(model="fake-chat", temperature=0.2, max_tokens=64, json_mode=True)
    provider_for(openai_server).complete(MESSAGES, options)
    body = openai_server.requests[-1]["json"]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 64
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"] == MESSAGES


def test_complete_returns_the_whole_reply(openai_server):
    completion = provider_for(openai_server).complete(MESSAGES, ChatOptions(model="fake-chat"))
    assert completion.text == openai_server.behaviour.reply
    assert completion.usage.prompt_tokens == 11


def test_it_lists_the_servers_models(openai_server):
    openai_server.behaviour.models = ["deepseek-chat", "deepseek-reasoner"]
    assert provider_for(openai_server).list_models() == ["deepseek-chat", "deepseek-reasoner"]


def test_it_embeds_texts(openai_server):
    vectors = provider_for(openai_server).embed(["one", "two"])
    assert len(vectors) == 2
    assert len(vectors[0]) == openai_server.behaviour.embedding_dim


def test_a_refused_key_is_an_auth_error():
    with FakeOpenAIServer(FakeBehaviour(status=401)) as server:
        with pytest.raises(ProviderAuthError, match="API key was refused"):
            provider_for(server).complete(MESSAGES, ChatOptions(model="fake-chat"))


def test_a_missing_key_is_an_auth_error_before_any_request():
    with pytest.raises(ProviderAuthError, match="No DeepSeek API key"):
        DeepSeekProvider(api_key="", base_url="http://127.0.0.1:1/v1", timeout=1)


def test_an_unknown_model_names_the_model(openai_server):
    with pytest.raises(UnknownModel, match="no-such-model"):
        provider_for(openai_server).complete(MESSAGES, ChatOptions(model="no-such-model"))


def test_a_server_that_is_down_is_unavailable():
    provider = DeepSeekProvider(
        api_key="sk", base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=2
    )
    with pytest.raises(ProviderUnavailable, match="Could not reach"):
        provider.complete(MESSAGES, ChatOptions(model="fake-chat"))


def test_a_slow_server_times_out():
    with FakeOpenAIServer(FakeBehaviour(first_byte_delay=3)) as server:
        with pytest.raises(ProviderTimeout):
            provider_for(server, timeout=0.5).complete(MESSAGES, ChatOptions(model="fake-chat"))


def test_garbage_in_the_stream_is_a_malformed_response():
    with FakeOpenAIServer(FakeBehaviour(garbage=True)) as server:
        with pytest.raises(MalformedResponse):
            provider_for(server).complete(MESSAGES, ChatOptions(model="fake-chat"))
