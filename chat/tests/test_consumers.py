import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from chat.consumers import ChatConsumer
from chat.models import Message, Role

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


async def events_until_idle(communicator: WebsocketCommunicator) -> list[dict]:
    events = []
    while True:
        event = await communicator.receive_json_from(timeout=10)
        events.append(event)
        if event["type"] == "idle":
            return events


async def test_a_reply_streams_token_by_token(use_deepseek, openai_server, user):
    openai_server.behaviour.reply = "Streaming is fun to watch."
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hello"})

    events = await events_until_idle(communicator)
    kinds = [event["type"] for event in events]

    assert kinds[0] == "user_message"
    assert kinds.count("token") > 1
    assert (
        "".join(e["text"] for e in events if e["type"] == "token") == "Streaming is fun to watch."
    )
    done = next(e for e in events if e["type"] == "done")
    assert done["content"] == "Streaming is fun to watch."
    assert done["usage"]["prompt_tokens"] == 11
    await communicator.disconnect()


async def test_a_provider_failure_is_an_error_event_and_the_message_stays(
    use_deepseek, openai_server, user
):
    openai_server.behaviour.status = 500
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "still there?"})

    events = await events_until_idle(communicator)
    error = next(e for e in events if e["type"] == "error")

    assert "failed (500" in error["message"]
    stored = await Message.objects.aget(pk=error["user_message_id"])
    assert (stored.role, stored.content) == (Role.USER, "still there?")
    await communicator.disconnect()


async def test_stop_ends_the_reply_early(use_deepseek, openai_server, user):
    openai_server.behaviour.reply = " ".join(f"word{i}" for i in range(200))
    openai_server.behaviour.chunk_delay = 0.02
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "talk a lot"})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "user_message"
    assert (await communicator.receive_json_from(timeout=10))["type"] == "token"
    await communicator.send_json_to({"type": "stop"})

    events = await events_until_idle(communicator)
    done = next(e for e in events if e["type"] == "done")

    assert done["stopped"] is True
    assert len(done["content"].split()) < 200
    await communicator.disconnect()


async def test_anonymous_sockets_are_refused():
    communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_the_done_event_carries_the_reply_as_sanitised_markdown(
    use_deepseek, openai_server, user
):
    openai_server.behaviour.reply = "**Hi** <script>alert(1)</script> <img src=x onerror=alert(2)>"
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hello"})
    done = next(e for e in await events_until_idle(communicator) if e["type"] == "done")
    assert "<strong>Hi</strong>" in done["html"]
    assert "<script" not in done["html"] and "<img" not in done["html"]
    assert "&lt;script&gt;" in done["html"]
    await communicator.disconnect()


async def test_the_users_other_sockets_hear_that_a_conversation_changed(
    use_deepseek, user, other_user
):
    speaking, listening, stranger = (
        await connect(user),
        await connect(user),
        await connect(other_user),
    )
    await speaking.send_json_to({"type": "send", "text": "hello from tab one"})
    events = await events_until_idle(speaking)
    conversation_id = events[0]["conversation_id"]

    heard = await listening.receive_json_from(timeout=5)
    assert heard == {"type": "conversation_updated", "conversation_id": conversation_id}
    assert await stranger.receive_nothing(timeout=0.3)
    assert all(e["type"] != "conversation_updated" for e in events)
    for communicator in (speaking, listening, stranger):
        await communicator.disconnect()
