import pytest

from providers.adapters.ollama import OllamaProvider, ollama_find_endpoint
from providers.base import ChatOptions, Usage
from providers.errors import MalformedResponse, ProviderTimeout, ProviderUnavailable, UnknownModel
from providers.testing.fakes import FakeBehaviour, FakeOllamaServer, free_port

MESSAGES = [{"role": "user", "content": "Say hello"}]


def provider_for(endpoint: str, fallbacks: list[str] | None = None, timeout: float = 5):
    return OllamaProvider(
        endpoint=endpoint, fallbacks=fallbacks or [], timeout=timeout, embedding_model="fake-chat"
    )


def dead_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_it_streams_text_then_the_reported_usage(ollama_server):
    ollama_server.behaviour.reply = "Hello from a local model, friend."
    ollama_server.behaviour.completion_tokens = 9
    items = list(
        provider_for(ollama_server.url).stream_chat(MESSAGES, ChatOptions(model="fake-chat"))
    )

    text = [item for item in items if isinstance(item, str)]
    assert len(text) > 1
    assert "".join(text) == "Hello from a local model, friend."
    assert items[-1] == Usage(prompt_tokens=11, completion_tokens=9)


def test_it_passes_temperature_max_tokens_and_json_mode(ollama_server):
    options = ChatOptions(model="fake-chat", temperature=0.1, max_tokens=33, json_mode=True)
    provider_for(ollama_server.url).complete(MESSAGES, options)
    body = ollama_server.requests[-1]["json"]
    assert body["options"] == {"temperature": 0.1, "num_predict": 33}
    assert body["format"] == "json"


def test_it_lists_the_servers_models(ollama_server):
    ollama_server.behaviour.models = ["llama3.2:latest", "qwen3:8b"]
    assert provider_for(ollama_server.url).list_models() == ["llama3.2:latest", "qwen3:8b"]


def test_it_falls_back_to_an_endpoint_that_answers(ollama_server):
    provider = provider_for(dead_endpoint(), fallbacks=[dead_endpoint(), ollama_server.url])
    completion = provider.complete(MESSAGES, ChatOptions(model="fake-chat"))
    assert completion.text == ollama_server.behaviour.reply
    assert provider.endpoint == ollama_server.url


def test_endpoint_detection_reports_which_endpoint_answered(ollama_server):
    probe = ollama_find_endpoint(dead_endpoint(), [ollama_server.url])
    assert probe.endpoint == ollama_server.url
    assert probe.models == ["fake-chat", "fake-small"]


def test_no_endpoint_answering_is_unavailable_and_names_what_was_tried():
    configured = dead_endpoint()
    with pytest.raises(ProviderUnavailable, match="No Ollama server answered") as raised:
        provider_for(configured).complete(MESSAGES, ChatOptions(model="fake-chat"))
    assert configured in raised.value.message


def test_an_unknown_model_says_how_to_pull_it(ollama_server):
    with pytest.raises(UnknownModel, match="ollama pull mystery"):
        provider_for(ollama_server.url).complete(MESSAGES, ChatOptions(model="mystery"))


def test_a_slow_server_times_out():
    with FakeOllamaServer() as server:
        provider = provider_for(server.url, timeout=0.5)
        assert provider.endpoint == server.url  # found while the server is quick
        server.behaviour.first_byte_delay = 3
        with pytest.raises(ProviderTimeout):
            provider.complete(MESSAGES, ChatOptions(model="fake-chat"))


def test_garbage_in_the_stream_is_a_malformed_response():
    with FakeOllamaServer(FakeBehaviour(garbage=True)) as server:
        with pytest.raises(MalformedResponse):
            provider_for(server.url).complete(MESSAGES, ChatOptions(model="fake-chat"))


def test_it_embeds_texts(ollama_server):
    vectors = provider_for(ollama_server.url).embed(["one", "two", "three"])
    assert len(vectors) == 3
    assert len(vectors[0]) == ollama_server.behaviour.embedding_dim


def test_it_looks_for_a_live_endpoint_again_after_one_dies():
    with FakeOllamaServer() as first, FakeOllamaServer() as second:
        provider = provider_for(first.url, fallbacks=[second.url])
        provider.complete(MESSAGES, ChatOptions(model="fake-chat"))
        first.stop()
        with pytest.raises(ProviderUnavailable):
            provider.complete(MESSAGES, ChatOptions(model="fake-chat"))
        completion = provider.complete(MESSAGES, ChatOptions(model="fake-chat"))
        assert completion.text == second.behaviour.reply
        assert provider.endpoint == second.url
