import pytest

from luma.services import runtime_settings_get, runtime_settings_update

pytestmark = pytest.mark.django_db


def form_data(**changes):
    row = runtime_settings_get()
    data = {
        "provider": row.provider,
        "deepseek_base_url": row.deepseek_base_url,
        "deepseek_model": row.deepseek_model,
        "ollama_endpoint": row.ollama_endpoint,
        "ollama_model": row.ollama_model,
        "ollama_embedding_model": row.ollama_embedding_model,
        "temperature": row.temperature,
        "max_tokens": row.max_tokens,
        "memory_context_limit": row.memory_context_limit,
        "memory_suggestion_threshold": row.memory_suggestion_threshold,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_settings_page_shows_the_key_only_masked(admin_client):
    runtime_settings_update(provider="deepseek", deepseek_api_key="sk-secret-value-4321")
    html = admin_client.get("/settings/").content.decode()
    assert "sk-…4321" in html
    assert "sk-secret-value-4321" not in html


def test_saving_without_a_key_keeps_the_stored_key(admin_client):
    runtime_settings_update(deepseek_api_key="sk-secret-value-4321")
    response = admin_client.post("/settings/", form_data(temperature="0.2", deepseek_api_key=""))
    assert response.status_code == 302
    row = runtime_settings_get()
    assert row.deepseek_api_key == "sk-secret-value-4321"
    assert row.temperature == 0.2


def test_a_new_key_replaces_the_stored_one_and_clearing_removes_it(admin_client):
    admin_client.post("/settings/", form_data(deepseek_api_key="sk-new-key-000011"))
    assert runtime_settings_get().deepseek_api_key == "sk-new-key-000011"
    admin_client.post("/settings/", form_data(clear_deepseek_api_key="on"))
    assert runtime_settings_get().deepseek_api_key == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", "3"),
        ("max_tokens", "0"),
        ("memory_suggestion_threshold", "11"),
        ("ollama_endpoint", "not a url"),
        ("provider", "openai"),
    ],
)
def test_invalid_values_are_refused_next_to_their_field(admin_client, field, value):
    before = runtime_settings_get()
    response = admin_client.post("/settings/", form_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert f'id="field-{field}"' in response.content.decode() or field == "provider"
    after = runtime_settings_get()
    assert getattr(after, field) == getattr(before, field)


def test_suggestions_can_be_switched_on_and_off(admin_client):
    admin_client.post("/settings/", form_data(memory_suggestions_enabled="on"))
    assert runtime_settings_get().memory_suggestions_enabled is True
    admin_client.post("/settings/", form_data())
    assert runtime_settings_get().memory_suggestions_enabled is False


def test_every_page_renders_for_the_owner(admin_client):
    for url in ("/", "/memory/", "/settings/", "/usage/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert b'aria-label="Main"' in response.content


def test_the_chat_page_shows_the_suggestions_panel_only_when_suggestions_are_on(admin_client):
    assert b"suggestions-panel" not in admin_client.get("/").content
    runtime_settings_update(memory_suggestions_enabled=True)
    assert b"suggestions-panel" in admin_client.get("/").content


def test_saving_the_page_keeps_what_only_the_api_changed_and_shows_every_setting(admin_client):
    """Found by a fresh user: a setting the page did not render was reset by each save."""
    runtime_settings_update(viewer_uploads_enabled=True, fallback_provider="ollama")
    html = admin_client.get("/settings/").content.decode()
    assert 'name="viewer_uploads_enabled"' in html and 'name="fallback_provider"' in html
    admin_client.post(
        "/settings/",
        form_data(temperature="0.4", viewer_uploads_enabled="on", fallback_provider="ollama"),
    )
    row = runtime_settings_get()
    assert (row.temperature, row.viewer_uploads_enabled, row.fallback_provider) == (
        0.4,
        True,
        "ollama",
    )
