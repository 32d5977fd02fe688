import pytest

from luma.services import runtime_settings_update
from providers.base import Usage
from providers.errors import (
    MalformedResponse,
    ProviderAuthError,
    ProviderServerError,
    ProviderUnavailable,
)
from providers.resilience import Answering, reply_stream
from providers.testing.fakes import FakeBehaviour, FakeOpenAIServer, free_port

MESSAGES = [{"role": "user", "content": "hi"}]


def collect(row, sleeps: list[float] | None = None, on_sleep=None) -> list:
    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        if on_sleep:
            on_sleep()

    return list(reply_stream(row, MESSAGES, sleep=sleep))


def test_a_reply_starts_by_naming_who_answers(use_deepseek, openai_server):
    items = collect(use_deepseek)
    assert items[0] == Answering("deepseek", "fake-chat", fallback=False)
    assert "".join(i for i in items if isinstance(i, str)) == openai_server.behaviour.reply
    assert isinstance(items[-1], Usage)


def test_a_5xx_is_retried_with_back_off_until_the_server_recovers(use_deepseek, openai_server):
    openai_server.behaviour.status = 503
    sleeps: list[float] = []

    def recover() -> None:
        openai_server.behaviour.status = 200

    items = collect(use_deepseek, sleeps, on_sleep=recover)

    assert len(sleeps) == 1
    assert "".join(i for i in items if isinstance(i, str)) == openai_server.behaviour.reply


def test_retries_stop_after_the_configured_number(use_deepseek, openai_server, settings):
    settings.LUMA_PROVIDER_RETRIES = 2
    openai_server.behaviour.status = 500
    sleeps: list[float] = []
    with pytest.raises(ProviderServerError):
        collect(use_deepseek, sleeps)
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0]  # exponential
    assert len(openai_server.requests) == 3


def test_a_refused_key_is_not_retried(use_deepseek, openai_server):
    openai_server.behaviour.status = 401
    sleeps: list[float] = []
    with pytest.raises(ProviderAuthError):
        collect(use_deepseek, sleeps)
    assert sleeps == []


def test_a_stream_that_breaks_after_text_is_not_retried(use_deepseek, openai_server):
    openai_server.behaviour.garbage = True
    sleeps: list[float] = []
    with pytest.raises(MalformedResponse):
        collect(use_deepseek, sleeps)
    assert sleeps == []
    assert len(openai_server.requests) == 1


def test_the_fallback_answers_when_the_provider_is_down(use_deepseek, openai_server):
    row = runtime_settings_update(
        provider="ollama",
        ollama_endpoint=f"http://127.0.0.1:{free_port()}",
        fallback_provider="deepseek",
    )
    items = collect(row)
    assert items[0] == Answering("deepseek", "fake-chat", fallback=True)
    assert "".join(i for i in items if isinstance(i, str)) == openai_server.behaviour.reply


def test_a_slow_provider_falls_back_without_retrying(use_ollama, settings):
    settings.LUMA_PROVIDER_TIMEOUT = 0.5
    with FakeOpenAIServer(FakeBehaviour(first_byte_delay=3)) as slow:
        row = runtime_settings_update(
            provider="deepseek",
            deepseek_api_key="sk-slow",
            deepseek_base_url=slow.base_url,
            deepseek_model="fake-chat",
            fallback_provider="ollama",
        )
        sleeps: list[float] = []
        items = collect(row, sleeps)
    assert sleeps == []
    assert items[0] == Answering("ollama", "fake-chat", fallback=True)


def test_with_no_fallback_the_providers_error_reaches_the_caller(db):
    row = runtime_settings_update(
        provider="ollama", ollama_endpoint=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(ProviderUnavailable):
        collect(row)
