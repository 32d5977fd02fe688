import pytest

from luma.models import RuntimeSettings, mask_secret
from luma.services import InvalidSettings, runtime_settings_get, runtime_settings_update


@pytest.mark.django_db
def test_first_read_seeds_the_row_from_environment(monkeypatch):
    monkeypatch.setenv("MODEL_PROVIDER", "ollama")
    monkeypatch.setenv("OLLAMA_ENDPOINT", "http://gpu-box:11434")
    monkeypatch.setenv("OLLAMA_MODEL", "qwen3:8b")
    monkeypatch.setenv("TEMPERATURE", "0.3")
    monkeypatch.setenv("MEMORY_SUGGESTIONS_ENABLED", "true")

    row = runtime_settings_get()

    assert (row.provider, row.ollama_endpoint, row.ollama_model) == (
        "ollama",
        "http://gpu-box:11434",
        "qwen3:8b",
    )
    assert row.temperature == 0.3
    assert row.memory_suggestions_enabled is True


@pytest.mark.django_db
def test_the_database_wins_over_the_environment_after_the_first_read(monkeypatch):
    runtime_settings_get()
    monkeypatch.setenv("MODEL_PROVIDER", "deepseek")
    assert runtime_settings_get().provider == "builtin"
    assert RuntimeSettings.objects.count() == 1


@pytest.mark.django_db
def test_defaults_are_the_builtin_model_with_suggestions_off():
    row = runtime_settings_get()
    assert row.provider == "builtin"
    assert row.memory_suggestions_enabled is False


@pytest.mark.django_db
def test_a_deepseek_key_in_the_environment_selects_deepseek(monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-abcdef123456")
    assert runtime_settings_get().provider == "deepseek"


@pytest.mark.django_db
def test_a_bad_environment_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MODEL_PROVIDER", "gpt5")
    with pytest.raises(InvalidSettings, match="provider"):
        runtime_settings_get()


@pytest.mark.django_db
def test_update_refuses_out_of_range_values_and_keeps_the_old_ones():
    runtime_settings_get()
    with pytest.raises(InvalidSettings, match="temperature"):
        runtime_settings_update(temperature=7.5)
    assert runtime_settings_get().temperature == 0.7


@pytest.mark.django_db
def test_update_with_no_key_keeps_the_stored_key():
    runtime_settings_update(deepseek_api_key="sk-keep-me-please")
    runtime_settings_update(deepseek_api_key=None, deepseek_model="deepseek-reasoner")
    row = runtime_settings_get()
    assert row.deepseek_api_key == "sk-keep-me-please"
    assert row.deepseek_model == "deepseek-reasoner"


@pytest.mark.django_db
def test_update_refuses_unknown_settings():
    with pytest.raises(InvalidSettings, match="colour"):
        runtime_settings_update(colour="pink")


def test_mask_shows_only_the_ends_of_a_secret():
    assert mask_secret("sk-1234567890abcdef") == "sk-…cdef"
    assert mask_secret("short") == "………"
    assert mask_secret("") == ""


@pytest.mark.django_db
def test_a_null_value_leaves_the_setting_alone():
    runtime_settings_update(fallback_provider="ollama")
    row = runtime_settings_update(fallback_provider=None, temperature=None)
    assert (row.fallback_provider, row.temperature) == ("ollama", 0.7)
