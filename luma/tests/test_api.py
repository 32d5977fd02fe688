import json

import pytest
from django.test import Client

from luma.services import api_token_create, runtime_settings_update

SECRET = "sk-very-secret-deepseek-key-9876"


@pytest.mark.django_db
def test_settings_read_masks_the_key(admin_client):
    runtime_settings_update(deepseek_api_key=SECRET)
    response = admin_client.get("/api/settings")
    body = response.json()
    assert response.status_code == 200
    assert body["deepseek_api_key_set"] is True
    assert body["deepseek_api_key_masked"] == "sk-…9876"
    assert SECRET not in response.content.decode()
    assert "deepseek_api_key" not in body


@pytest.mark.django_db
def test_settings_update_changes_only_what_is_sent(admin_client):
    runtime_settings_update(deepseek_api_key=SECRET)
    response = admin_client.put(
        "/api/settings",
        {"provider": "ollama", "temperature": 0.2},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 200, body
    assert (body["provider"], body["temperature"]) == ("ollama", 0.2)
    assert body["deepseek_api_key_set"] is True
    assert SECRET not in response.content.decode()


@pytest.mark.django_db
def test_settings_update_refuses_invalid_values_with_a_clear_message(admin_client):
    response = admin_client.put("/api/settings", {"max_tokens": 0}, content_type="application/json")
    assert response.status_code == 422  # the schema says so, as the OpenAPI document does
    assert "max_tokens" in response.json()["message"]


@pytest.mark.django_db
def test_settings_update_refuses_an_unknown_provider(admin_client):
    response = admin_client.put(
        "/api/settings", {"provider": "gpt5"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "provider" in response.json()["message"]


@pytest.mark.django_db
def test_the_api_needs_a_login(client):
    assert client.get("/api/settings").status_code == 401
    assert client.put("/api/settings", {}, content_type="application/json").status_code == 401


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.put("/api/settings", {"temperature": 1.0}, content_type="application/json")
    assert response.status_code in {401, 403}


@pytest.mark.django_db
def test_a_bearer_token_authenticates(admin_user):
    _, plain = api_token_create(user=admin_user, name="overlay")
    client = Client()
    ok = client.get("/api/settings", headers={"authorization": f"Bearer {plain}"})
    wrong = client.get("/api/settings", headers={"authorization": "Bearer luma_nope"})
    assert ok.status_code == 200
    assert wrong.status_code == 401


@pytest.mark.django_db
def test_the_openapi_schema_and_docs_are_served(user_client):
    schema = user_client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/chat", "/api/settings", "/api/models/available"} <= set(paths)
    assert user_client.get("/api/docs").status_code == 200


@pytest.mark.django_db
def test_settings_update_refuses_an_unknown_field_and_reads_errors_plainly(admin_client):
    unknown = admin_client.put(
        "/api/settings", {"temprature": 0.2}, content_type="application/json"
    )
    assert unknown.status_code == 422 and "temprature" in unknown.json()["message"]
    runtime_settings_update(deepseek_api_key=SECRET)
    bad_url = admin_client.put(
        "/api/settings", {"deepseek_base_url": "not a url"}, content_type="application/json"
    )
    assert bad_url.status_code == 400
    assert "deepseek_base_url" in bad_url.json()["message"]  # the URL first, then the key
    assert "{" not in bad_url.json()["detail"]  # plain words, not a Python dict
