"""Addresses as people type them: normalised to what each client wants on every
surface that saves them (the settings page, `PUT /api/settings`, the admin), or
refused next to their field with the form expected."""

import re

import pytest
from django.core.exceptions import ValidationError

from luma.endpoints import base_url_normalise, ollama_endpoint_normalise
from luma.services import InvalidSettings, runtime_settings_get, runtime_settings_update
from luma.tests.test_settings_page import form_data

OLLAMA_FORMS = [
    (" http://h:11434/v1/ ", "http://h:11434"),
    ("http://h:11434/", "http://h:11434"),
    ("http://h:11434/api", "http://h:11434"),
    ("http://h:11434/api/", "http://h:11434"),
    ("http://h:11434/api/chat", "http://h:11434"),
    ("http://h:11434/api/tags", "http://h:11434"),
    ("http://h:11434/v1", "http://h:11434"),
    ("http://h:11434/v1/chat/completions", "http://h:11434"),
    ("\thttps://gpu.example.com/ollama/api/\n", "https://gpu.example.com/ollama"),
    ("HTTP://h:11434", "http://h:11434"),
    ("localhost:11434", "http://localhost:11434"),
    ("gpu-box", "http://gpu-box:11434"),
    ("http://[::1]:11434/api", "http://[::1]:11434"),
]
BASE_URL_FORMS = [
    (" https://api.deepseek.com ", "https://api.deepseek.com"),
    ("https://api.deepseek.com/", "https://api.deepseek.com"),
    ("https://api.deepseek.com/v1", "https://api.deepseek.com/v1"),
    ("https://api.deepseek.com/v1/", "https://api.deepseek.com/v1"),
    ("https://api.deepseek.com/chat/completions", "https://api.deepseek.com"),
    ("https://api.deepseek.com/v1/chat/completions/", "https://api.deepseek.com/v1"),
    ("http://localhost:8000/v1/completions", "http://localhost:8000/v1"),
]
NOT_ADDRESSES = ["not a url", "ftp://h:11434", "http://", "http://h:port", "http://h:1?x=1", ""]


@pytest.mark.parametrize(("typed", "saved"), OLLAMA_FORMS)
def test_an_ollama_endpoint_becomes_the_servers_root(typed, saved):
    assert ollama_endpoint_normalise(typed) == saved


@pytest.mark.parametrize(("typed", "saved"), BASE_URL_FORMS)
def test_a_base_url_loses_the_route_the_client_adds_but_keeps_v1(typed, saved):
    assert base_url_normalise(typed) == saved


@pytest.mark.parametrize("typed", NOT_ADDRESSES)
def test_what_cannot_be_an_address_is_refused_with_the_form_expected(typed):
    with pytest.raises(ValidationError, match=re.escape("http://localhost:11434")):
        ollama_endpoint_normalise(typed)
    with pytest.raises(ValidationError, match=re.escape("https://api.deepseek.com")):
        base_url_normalise(typed)


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "saved"), OLLAMA_FORMS[:4])
def test_the_service_saves_the_normalised_endpoint(typed, saved):
    assert runtime_settings_update(ollama_endpoint=typed).ollama_endpoint == saved


@pytest.mark.django_db
def test_a_normalised_base_url_needs_no_key_again():
    """The same address typed with a trailing slash is not a move of the key."""
    runtime_settings_update(deepseek_api_key="sk-stays-here-1234")
    row = runtime_settings_update(deepseek_base_url=" https://api.deepseek.com/v1/ ")
    assert row.deepseek_base_url == "https://api.deepseek.com/v1"
    assert row.deepseek_api_key == "sk-stays-here-1234"


@pytest.mark.django_db
def test_the_environment_seeds_a_normalised_endpoint(monkeypatch):
    monkeypatch.setenv("OLLAMA_ENDPOINT", "http://gpu-box:11434/api/")
    assert runtime_settings_get().ollama_endpoint == "http://gpu-box:11434"


@pytest.mark.django_db
def test_the_service_refuses_a_non_address_naming_the_field():
    with pytest.raises(InvalidSettings, match="ollama_endpoint") as raised:
        runtime_settings_update(ollama_endpoint="ftp://nowhere")
    assert "http://localhost:11434" in raised.value.message


@pytest.mark.parametrize(("field", "typed", "saved"), [
    ("ollama_endpoint", " http://h:11434/v1/ ", "http://h:11434"),
    ("ollama_endpoint", "http://h:11434/api/chat", "http://h:11434"),
    ("deepseek_base_url", "https://api.deepseek.com/v1/chat/completions ", "https://api.deepseek.com/v1"),
])  # fmt: skip
def test_the_api_saves_the_normalised_address(admin_client, field, typed, saved):
    response = admin_client.put("/api/settings", {field: typed}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()[field] == saved
    assert getattr(runtime_settings_get(), field) == saved


def test_the_api_refuses_a_non_address_with_the_form_expected(admin_client):
    response = admin_client.put(
        "/api/settings", {"ollama_endpoint": "not a url"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "http://localhost:11434" in response.json()["message"]


@pytest.mark.parametrize(("field", "typed", "saved"), [
    ("ollama_endpoint", " http://h:11434/api/tags ", "http://h:11434"),
    ("deepseek_base_url", "https://api.deepseek.com/chat/completions", "https://api.deepseek.com"),
])  # fmt: skip
def test_the_settings_page_saves_the_normalised_address(admin_client, field, typed, saved):
    response = admin_client.post("/settings/", form_data(**{field: typed}))
    assert response.status_code == 302
    assert getattr(runtime_settings_get(), field) == saved


def test_the_settings_page_refuses_a_non_address_next_to_its_field(admin_client):
    response = admin_client.post("/settings/", form_data(deepseek_base_url="api.deepseek.com"))
    assert response.status_code == 200
    assert "https://api.deepseek.com" in response.context["form"].errors["deepseek_base_url"][0]


def admin_fields(**changes) -> dict:
    row = runtime_settings_get()
    names = ("provider", "deepseek_base_url", "deepseek_model", "ollama_endpoint",
             "ollama_model", "ollama_embedding_model", "temperature", "max_tokens",
             "memory_context_limit", "memory_suggestion_threshold")  # fmt: skip
    return {name: getattr(row, name) for name in names} | {"fallback_provider": ""} | changes


def test_the_admin_saves_the_normalised_addresses(admin_client):
    row = runtime_settings_get()
    response = admin_client.post(
        f"/admin/luma/runtimesettings/{row.pk}/change/",
        admin_fields(ollama_endpoint="http://h:11434/v1/", deepseek_base_url=" http://h:8000/v1/ "),
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.ollama_endpoint, row.deepseek_base_url) == ("http://h:11434", "http://h:8000/v1")


def test_the_admin_refuses_a_non_address(admin_client):
    row = runtime_settings_get()
    response = admin_client.post(
        f"/admin/luma/runtimesettings/{row.pk}/change/", admin_fields(ollama_endpoint="not a url")
    )
    assert response.status_code == 200
    assert "http://localhost:11434" in response.content.decode()
