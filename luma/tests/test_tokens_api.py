import pytest
from django.test import Client

from luma.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_and_uses_it(user_client, user):
    created = user_client.post("/api/tokens", {"name": "overlay"}, content_type="application/json")
    body = created.json()

    assert created.status_code == 201, body
    assert body["token"].startswith("luma_") and body["prefix"] == body["token"][:12]
    assert ApiToken.objects.get().token_hash != body["token"]
    with_token = Client().get("/api/memory/search", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert with_token.status_code == 200
    listed = user_client.get("/api/tokens").json()
    assert [(t["name"], "token" in t) for t in listed] == [("overlay", False)]


def test_a_revoked_token_no_longer_works(user_client):
    body = user_client.post("/api/tokens", {"name": "x"}, content_type="application/json").json()

    assert user_client.delete(f"/api/tokens/{body['id']}").status_code == 204
    response = Client().get("/api/tokens", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert response.status_code == 401


def test_nobody_sees_or_revokes_another_users_tokens(user_client, other_user):
    stranger = Client()
    stranger.force_login(other_user)
    theirs = stranger.post("/api/tokens", {"name": "t"}, content_type="application/json").json()

    assert user_client.get("/api/tokens").json() == []
    assert user_client.delete(f"/api/tokens/{theirs['id']}").status_code == 404


def test_a_token_needs_a_name_and_a_login(user_client):
    assert user_client.post("/api/tokens", {}, content_type="application/json").status_code == 422
    assert (
        Client().post("/api/tokens", {"name": "x"}, content_type="application/json").status_code
        == 401
    )
