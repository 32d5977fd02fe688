import pytest

from chat.models import Conversation, Message, Role
from luma.services import runtime_settings_update
from providers.errors import ProviderUnavailable
from providers.testing.fakes import free_port


def post_chat(client, **payload):
    return client.post("/api/chat", payload, content_type="application/json")


def test_it_replies_and_reports_usage(use_deepseek, user_client, openai_server):
    openai_server.behaviour.reply = "Welcome back to the stream!"
    response = post_chat(user_client, message="hi Luma")
    body = response.json()

    assert response.status_code == 200, body
    assert body["reply"] == "Welcome back to the stream!"
    assert (body["provider"], body["model"]) == ("deepseek", "fake-chat")
    assert body["usage"]["prompt_tokens"] == 11
    assert body["usage"]["total_tokens"] == 11 + body["usage"]["completion_tokens"]
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.messages.count() == 2


def test_it_continues_a_conversation(use_ollama, user_client):
    first = post_chat(user_client, message="one").json()
    second = post_chat(user_client, message="two", conversation_id=first["conversation_id"]).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 4


def test_another_users_conversation_is_not_found(use_ollama, user_client, other_user):
    theirs = Conversation.objects.create(owner=other_user)
    response = post_chat(user_client, message="let me in", conversation_id=theirs.pk)
    assert response.status_code == 404
    assert not theirs.messages.exists()


@pytest.mark.django_db
def test_a_provider_failure_keeps_the_message_and_names_the_conversation(user_client):
    runtime_settings_update(provider="ollama", ollama_endpoint=f"http://127.0.0.1:{free_port()}")
    response = post_chat(user_client, message="anyone home?")
    body = response.json()

    assert response.status_code == 503
    # A viewer is told what they can do; the address and its fix are the owner's.
    assert body["message"] == ProviderUnavailable.viewer_message
    assert "127.0.0.1" not in body["message"]
    stored = Message.objects.get(pk=body["user_message_id"])
    assert (stored.role, stored.content, stored.conversation_id) == (
        Role.USER,
        "anyone home?",
        body["conversation_id"],
    )


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("user_client", "The model server refused Luma's key"),
        ("admin_client", "API key was refused"),
    ],
)
def test_a_refused_key_is_reported_without_echoing_it(
    use_deepseek, openai_server, request, who, says
):
    openai_server.behaviour.status = 401
    response = post_chat(request.getfixturevalue(who), message="hello")
    assert response.status_code == 502
    assert says in response.json()["message"]
    assert "sk-test-secret-key-1234" not in response.content.decode()


@pytest.mark.django_db
def test_invalid_payloads_get_a_clear_4xx(user_client):
    assert post_chat(user_client).status_code == 422
    response = post_chat(user_client, message="")
    assert response.status_code == 422
    assert "message" in response.json()["message"]
    too_long = post_chat(user_client, message="x" * 9000)
    assert too_long.status_code == 422


def test_conversations_and_messages_are_listed_for_their_owner_only(
    use_ollama, user_client, other_user
):
    mine = post_chat(user_client, message="mine").json()["conversation_id"]
    theirs = Conversation.objects.create(owner=other_user, title="theirs")

    listed = user_client.get("/api/chat/conversations").json()
    assert [item["id"] for item in listed["items"]] == [mine]
    messages = user_client.get(f"/api/chat/conversations/{mine}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert user_client.get(f"/api/chat/conversations/{theirs.pk}/messages").status_code == 404
    assert user_client.delete(f"/api/chat/conversations/{theirs.pk}").status_code == 404
    assert user_client.delete(f"/api/chat/conversations/{mine}").status_code == 204
    assert not Conversation.objects.filter(pk=mine).exists()


@pytest.mark.django_db
def test_chat_needs_a_login(client):
    assert post_chat(client, message="hi").status_code == 401


@pytest.mark.django_db
def test_absurd_pagination_is_a_4xx_not_a_crash(user_client):
    response = user_client.get("/api/chat/conversations", {"limit": 10, "offset": 10**30})
    assert response.status_code == 422
    assert user_client.get("/api/chat/conversations", {"limit": 10**6}).status_code == 422


def test_a_cut_off_reply_is_continued_through_the_api(use_deepseek, openai_server, user_client):
    openai_server.behaviour.reply = "The three best games are"
    openai_server.behaviour.finish_reason = "length"
    cut = post_chat(user_client, message="top 3?").json()
    assert cut["status"] == "length"

    openai_server.behaviour.reply = " Zelda, Celeste and Hades."
    openai_server.behaviour.finish_reason = "stop"
    url = f"/api/chat/conversations/{cut['conversation_id']}/messages/{cut['id']}/continue"
    done = user_client.post(url)

    assert done.status_code == 200
    body = done.json()
    assert (body["id"], body["status"]) == (cut["id"], "complete")
    assert body["content"] == "The three best games are Zelda, Celeste and Hades."
    again = user_client.post(url)
    assert again.status_code == 400
    assert "nothing to continue" in again.json()["message"]
