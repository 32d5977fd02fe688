import pytest

from luma.services import runtime_settings_get, runtime_settings_update
from providers.registry import provider_build, provider_model, provider_prompt_budget

pytestmark = pytest.mark.django_db


def test_the_default_is_the_builtin_model_with_its_small_context(settings):
    row = runtime_settings_get()
    assert provider_model(row) == "SmolLM2-135M-Instruct"
    assert provider_prompt_budget(row) == settings.LUMA_BUILTIN_CONTEXT - row.max_tokens


def test_each_provider_names_its_own_model(settings):
    row = runtime_settings_update(deepseek_model="deepseek-reasoner", ollama_model="qwen3:4b")
    assert (provider_model(row, "deepseek"), provider_model(row, "ollama")) == (
        "deepseek-reasoner",
        "qwen3:4b",
    )
    row = runtime_settings_update(provider="ollama")
    assert provider_prompt_budget(row) == settings.LUMA_PROMPT_TOKEN_BUDGET


def test_a_provider_is_rebuilt_only_when_its_own_settings_change():
    row = runtime_settings_update(provider="ollama", ollama_endpoint="http://127.0.0.1:9")
    first = provider_build(row)
    assert provider_build(runtime_settings_update(temperature=0.1)) is first
    assert (
        provider_build(runtime_settings_update(ollama_endpoint="http://127.0.0.1:10")) is not first
    )
