"""Every way a model server fails, through the real `openai` and `ollama` clients
against the fake servers: the typed error, and a sentence saying what is wrong and
what to do, with the server's own words where they help."""

import pytest

from providers.adapters.deepseek import DeepSeekProvider
from providers.adapters.ollama import OllamaProvider
from providers.base import ChatOptions
from providers.errors import (
    ContextTooLong,
    InsufficientBalance,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnavailable,
    RequestRefused,
    UnknownModel,
    WrongEndpoint,
)
from providers.failures import Server, status_error
from providers.testing.fakes import FakeBehaviour, FakeOllamaServer, FakeOpenAIServer, free_port

MESSAGES = [{"role": "user", "content": "Tell me a story about a fox."}]
CHAT = ChatOptions(model="fake-chat")


def openai_provider(base_url: str, timeout: float = 5) -> DeepSeekProvider:
    return DeepSeekProvider(api_key="sk-test", base_url=base_url, timeout=timeout)


def ollama_provider(endpoint: str, timeout: float = 5) -> OllamaProvider:
    return OllamaProvider(endpoint=endpoint, fallbacks=[], timeout=timeout, embedding_model="")


def failure(call) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        call()
    return raised.value


# status, the server's message (None: the fake's default), the class, parts of the sentence
OPENAI_STATUSES = [
    (401, None, ProviderAuthError, ["API key was refused", "Authentication Fails", "valid key in Settings"]),
    (403, None, ProviderAuthError, ["API key was refused", "Permission denied"]),
    (402, None, InsufficientBalance, ["balance", "Insufficient Balance", "Top up the account at the provider"]),
    (429, "You exceeded your current quota, please check your plan and billing details.",
     InsufficientBalance, ["exceeded your current quota", "Top up"]),
    (429, None, ProviderRateLimited, ["rate-limiting", "Rate limit reached", "Wait a minute"]),
    (400, "temperature must be at most 2", RequestRefused, ["refused the request", "temperature must be at most 2", "Settings"]),
    (422, None, RequestRefused, ["refused the request", "Invalid parameters"]),
    (400, "Model Not Exist", UnknownModel, ["no model 'fake-chat'", "Model Not Exist", "Pick one"]),
    (400, "prompt is too long: 9000 tokens > 8192 maximum", ContextTooLong, ["too long", "9000 tokens"]),
    (400, "the request exceeds the available context size, try increasing it", ContextTooLong,
     ["too long", "available context size"]),
    (503, None, ProviderServerError, ["failed (503", "Server overloaded", "Try again"]),
]  # fmt: skip


@pytest.mark.parametrize(("status", "said", "kind", "parts"), OPENAI_STATUSES)
def test_each_openai_status_is_a_sentence_to_act_on(status, said, kind, parts):
    with FakeOpenAIServer(FakeBehaviour(status=status, error_message=said)) as server:
        error = failure(lambda: openai_provider(server.base_url).complete(MESSAGES, CHAT))
    assert type(error) is kind
    for part in parts:
        assert part in error.message
    assert "sk-test" not in error.message


def test_an_unknown_model_is_named_with_what_to_do(openai_server):
    error = failure(
        lambda: openai_provider(openai_server.base_url).complete(
            MESSAGES, ChatOptions(model="deepseek-chatt")
        )
    )
    assert isinstance(error, UnknownModel)
    assert "no model 'deepseek-chatt'" in error.message and "Settings" in error.message


def test_a_prompt_over_the_context_window_is_context_too_long():
    with FakeOpenAIServer(FakeBehaviour(max_prompt_chars=10)) as server:
        error = failure(lambda: openai_provider(server.base_url).complete(MESSAGES, CHAT))
    assert isinstance(error, ContextTooLong)
    assert "maximum context length" in error.message and "new conversation" in error.message


def test_a_base_url_missing_its_v1_says_the_address_looks_wrong(openai_server):
    error = failure(lambda: openai_provider(openai_server.url).complete(MESSAGES, CHAT))
    assert isinstance(error, WrongEndpoint)
    assert error.message.startswith("The address looks wrong:")
    assert f"answered 404 at {openai_server.url}/chat/completions" in error.message
    assert "https://api.deepseek.com" in error.message


def test_listing_models_at_a_wrong_base_says_the_address_looks_wrong(openai_server):
    error = failure(lambda: openai_provider(openai_server.url + "/v2").list_models())
    assert isinstance(error, WrongEndpoint)
    assert "no model ''" not in error.message and "address looks wrong" in error.message


def test_a_slow_openai_server_says_how_long_it_waited():
    with FakeOpenAIServer(FakeBehaviour(first_byte_delay=3)) as server:
        error = failure(lambda: openai_provider(server.base_url, 0.5).complete(MESSAGES, CHAT))
    assert isinstance(error, ProviderTimeout)
    assert "did not answer in 0.5 seconds" in error.message
    assert "LUMA_PROVIDER_TIMEOUT" in error.message


def test_an_openai_server_that_is_down_is_named_with_the_reason():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    error = failure(lambda: openai_provider(base_url).complete(MESSAGES, CHAT))
    assert isinstance(error, ProviderUnavailable)
    assert base_url in error.message and "connection refused" in error.message


OLLAMA_STATUSES = [
    (401, None, ProviderAuthError, ["refused the request", "unauthorized", "no key"]),
    (429, "too many requests", ProviderRateLimited, ["rate-limiting", "Wait a minute"]),
    (400, "invalid options", RequestRefused, ["refused the request", "invalid options"]),
    (500, "llama runner process has terminated", ProviderServerError,
     ["failed (500", "llama runner process has terminated", "Try again"]),
]  # fmt: skip


@pytest.mark.parametrize(("status", "said", "kind", "parts"), OLLAMA_STATUSES)
def test_each_ollama_status_is_a_sentence_to_act_on(ollama_server, status, said, kind, parts):
    provider = ollama_provider(ollama_server.url)
    assert provider.endpoint == ollama_server.url  # found while the server answers
    ollama_server.behaviour.status = status
    ollama_server.behaviour.error_message = said
    error = failure(lambda: provider.complete(MESSAGES, CHAT))
    assert type(error) is kind
    for part in parts:
        assert part in error.message


def test_an_ollama_model_not_pulled_says_how_to_pull_it(ollama_server):
    error = failure(
        lambda: ollama_provider(ollama_server.url).complete(MESSAGES, ChatOptions(model="qwen3"))
    )
    assert isinstance(error, UnknownModel)
    assert "no model 'qwen3'" in error.message and "ollama pull qwen3" in error.message


def test_an_ollama_prompt_over_the_context_is_context_too_long():
    with FakeOllamaServer(FakeBehaviour(max_prompt_chars=10)) as server:
        error = failure(lambda: ollama_provider(server.url).complete(MESSAGES, CHAT))
    assert isinstance(error, ContextTooLong)
    assert "exceeds the context length" in error.message


def test_an_ollama_endpoint_that_answers_404_says_the_address_looks_wrong(ollama_server):
    endpoint = ollama_server.url + "/ollama"  # nothing is served under this path
    for call in (
        lambda: ollama_provider(endpoint).list_models(),
        lambda: ollama_provider(endpoint).complete(MESSAGES, CHAT),
    ):
        error = failure(call)
        assert isinstance(error, WrongEndpoint)
        assert f"The address looks wrong: {endpoint} answered 404" in error.message
        assert "http://localhost:11434" in error.message
        assert "No Ollama server answered" not in error.message


def test_a_slow_ollama_says_how_long_it_waited(ollama_server):
    provider = ollama_provider(ollama_server.url, timeout=0.5)
    assert provider.endpoint == ollama_server.url
    ollama_server.behaviour.first_byte_delay = 3
    error = failure(lambda: provider.complete(MESSAGES, CHAT))
    assert isinstance(error, ProviderTimeout)
    assert "did not answer in 0.5 seconds" in error.message


def test_an_ollama_that_is_down_says_to_start_it():
    endpoint = f"http://127.0.0.1:{free_port()}"
    listing = failure(lambda: ollama_provider(endpoint).list_models())
    chatting = failure(lambda: ollama_provider(endpoint).complete(MESSAGES, CHAT))
    assert isinstance(listing, ProviderUnavailable) and isinstance(chatting, ProviderUnavailable)
    assert f"Could not reach the Ollama server at {endpoint}" in listing.message
    assert "connection refused" in listing.message
    assert "ollama serve" in listing.message and "ollama serve" in chatting.message


def test_a_saved_endpoint_with_a_route_still_chats(ollama_server):
    """Rows saved before addresses were normalised may hold `/v1` or `/api/chat`."""
    provider = ollama_provider(ollama_server.url + "/api/chat/")
    assert provider.complete(MESSAGES, CHAT).text == ollama_server.behaviour.reply


def test_retries_and_fallback_follow_the_kind():
    """A rate limit may pass and a fallback may answer; a key or a balance will not mend."""
    assert ProviderRateLimited.retryable and ProviderServerError.retryable
    assert not any(
        kind.retryable
        for kind in (ProviderAuthError, InsufficientBalance, WrongEndpoint, RequestRefused)
    )
    assert ProviderRateLimited.status_code == 429


def test_the_top_up_advice_names_deepseeks_page_for_deepseek_only():
    deepseek = Server("OpenAI-compatible server", "https://api.deepseek.com", "", "")
    other = Server("OpenAI-compatible server", "https://openrouter.ai/api/v1", "", "")
    assert (
        "https://platform.deepseek.com/top_up" in status_error(deepseek, 402, "", model="m").message
    )
    assert "deepseek" not in status_error(other, 402, "", model="m").message.lower()
