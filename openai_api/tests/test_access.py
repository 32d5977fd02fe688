"""Who may call /v1: a bearer token of an active account, whatever its role; nobody else.
Refusals come in OpenAI's error shape with the status the official client expects."""

import httpx
import openai
import pytest
from django.contrib.auth.models import User

from luma.models import ApiToken
from openai_api.tests.conftest import LiveLuma, token_for

HELLO = [{"role": "user", "content": "Hello"}]


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_no_token_is_refused_with_openais_401(live: LiveLuma):
    response = httpx.post(
        f"{live.base_url}/chat/completions", json={"model": "luma", "messages": HELLO}
    )
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "invalid_api_key"
    assert "Authorization: Bearer" in error["message"]
    assert live.provider.requests == []


def test_a_wrong_token_is_refused_and_not_echoed_whole(live: LiveLuma):
    with pytest.raises(openai.AuthenticationError) as raised:
        live.client("luma_not-a-real-token-at-all").chat.completions.create(
            model="luma", messages=HELLO
        )
    assert raised.value.status_code == 401
    assert raised.value.body["code"] == "invalid_api_key"
    assert "not-a-real-token-at-all" not in raised.value.body["message"]


def test_a_session_cookie_is_not_enough(live: LiveLuma, user_client):
    response = user_client.post(
        "/v1/chat/completions",
        {"model": "luma", "messages": HELLO},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_a_deactivated_accounts_token_stops_working(live: LiveLuma, user: User, viewer_token):
    user.is_active = False
    user.save()
    with pytest.raises(openai.AuthenticationError) as raised:
        live.client(viewer_token).models.list()
    assert "deactivated" in raised.value.body["message"]


def test_a_revoked_token_stops_working(live: LiveLuma, viewer_token):
    ApiToken.objects.all().delete()
    with pytest.raises(openai.AuthenticationError):
        live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO)


@pytest.mark.parametrize("who", ["user", "moderator_user", "admin_user"])
def test_every_role_may_chat(live: LiveLuma, who, request):
    account = request.getfixturevalue(who)
    answer = live.client(token_for(account)).chat.completions.create(model="luma", messages=HELLO)
    assert answer.choices[0].message.content == "Hello from the fake model."


def test_an_app_speaker_account_cannot_log_in_or_hold_a_working_token(
    live: LiveLuma, viewer_token, user: User
):
    live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO, user="eve")
    speaker = User.objects.get(username=f"app:{user.pk}:eve")
    assert not speaker.is_active and not speaker.has_usable_password()
    with pytest.raises(openai.AuthenticationError):
        live.client(token_for(speaker)).chat.completions.create(model="luma", messages=HELLO)


def test_models_lists_the_persona_the_raw_memory_and_the_providers_model(live, viewer_token):
    listed = live.client(viewer_token).models.list()
    assert [(m.id, m.owned_by) for m in listed.data] == [
        ("luma", "luma"),
        ("luma-raw", "luma"),
        ("fake-chat", "deepseek"),
    ]
    assert live.client(viewer_token).models.retrieve("luma-raw").id == "luma-raw"


def test_models_need_a_token(live: LiveLuma):
    assert httpx.get(f"{live.base_url}/models").status_code == 401


def test_an_unknown_model_is_a_404_that_names_the_ones_to_use(live: LiveLuma, viewer_token):
    client = live.client(viewer_token)
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="qwen2.5:latest", messages=HELLO)
    error = raised.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "`luma`" in error["message"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    assert live.provider.requests == []


def test_the_providers_model_name_with_slashes_is_found(live: LiveLuma, viewer_token):
    from luma.services import runtime_settings_update

    runtime_settings_update(deepseek_model="qwen/qwen3:4b")
    assert live.client(viewer_token).models.retrieve("qwen/qwen3:4b").owned_by == "deepseek"


def test_the_chat_rate_limit_is_openais_429(live: LiveLuma, viewer_token, settings):
    settings.LUMA_CHAT_RATE = "2/60"
    client = live.client(viewer_token)
    client.chat.completions.create(model="luma", messages=HELLO)
    client.chat.completions.create(model="luma", messages=HELLO, user="someone-else")
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="luma", messages=HELLO, user="a-third")
    assert raised.value.body["code"] == "rate_limit_exceeded"
    assert "Try again in" in raised.value.body["message"]


def test_other_paths_under_v1_are_openai_style_404s(live: LiveLuma, viewer_token):
    response = httpx.post(
        f"{live.base_url}/embeddings", json={}, headers={"Authorization": f"Bearer {viewer_token}"}
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_url"


def test_a_get_on_completions_is_a_405(live: LiveLuma, viewer_token):
    response = httpx.get(
        f"{live.base_url}/chat/completions", headers={"Authorization": f"Bearer {viewer_token}"}
    )
    assert response.status_code == 405


def test_browsers_on_other_origins_get_cors_preflight_and_headers(live: LiveLuma, viewer_token):
    preflight = httpx.options(
        f"{live.base_url}/chat/completions",
        headers={
            "Origin": "https://airi.moeru.ai",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-stainless-os",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "x-stainless-os" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-private-network"] == "true"
    answer = httpx.get(
        f"{live.base_url}/models",
        headers={"Authorization": f"Bearer {viewer_token}", "Origin": "https://airi.moeru.ai"},
    )
    assert answer.headers["access-control-allow-origin"] == "*"
