"""The overlay: its page tells nothing, its socket opens only with the token, and every
reply on a followed surface reaches every open overlay (masked by the filter)."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.models import Channel, Message, Role
from chat.services import Speaker, conversation_for_owner, conversation_reply
from config.asgi import application
from luma.services import runtime_settings_get
from overlay.services import overlay_token_get, overlay_token_rotate
from twitchbot.services import twitch_reply_events

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = (b"origin", b"http://127.0.0.1")


def overlay_socket(query: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/overlay/?{query}", headers=[ORIGIN])


def twitch_question(text: str, channel: str = "streamer") -> None:
    for _ in twitch_reply_events(
        channel=channel, user_id="1001", display_name="Alice", text=text, abandoned=lambda: False
    ):
        pass


async def events_until_done(socket: WebsocketCommunicator) -> list[dict]:
    events = []
    while not events or events[-1]["type"] not in ("done", "end"):
        events.append(await socket.receive_json_from(timeout=5))
    return events


async def test_the_page_is_the_same_whatever_the_token(use_deepseek):
    token = await database_sync_to_async(overlay_token_get)()
    client = Client()
    pages = [
        await database_sync_to_async(client.get)(f"/overlay/{query}")
        for query in (f"?token={token}", "?token=wrong", "")
    ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert len({page.content for page in pages}) == 1
    assert pages[0]["Referrer-Policy"] == "no-referrer"
    assert b"<nav" not in pages[0].content


@pytest.mark.parametrize("query", ["token=wrong", "", "token="])
async def test_the_socket_refuses_a_wrong_or_missing_token(use_deepseek, query):
    await database_sync_to_async(overlay_token_get)()
    connected, code = await overlay_socket(query).connect()
    assert not connected
    assert code == 4403


async def test_a_twitch_question_and_its_reply_reach_every_overlay(use_deepseek, openai_server):
    openai_server.behaviour.reply = "Hello Alice, nice to see you in chat today!"
    token = await database_sync_to_async(overlay_token_get)()
    sockets = [overlay_socket(f"token={token}") for _ in range(2)]
    for socket in sockets:
        assert (await socket.connect())[0]
        hello = await socket.receive_json_from()
        assert hello["type"] == "hello" and hello["surfaces"] == ["discord", "twitch"]
    await database_sync_to_async(twitch_question)("what's up?")
    for socket in sockets:
        events = await events_until_done(socket)
        question = events[0]
        assert (question["type"], question["name"], question["question"]) == (
            "question", "Alice", "what's up?"
        )  # fmt: skip
        assert question["surface"] == "twitch"
        assert events[-1]["type"] == "done"
        assert events[-1]["text"] == "Hello Alice, nice to see you in chat today!"
        await socket.disconnect()


async def test_web_chats_stay_off_the_overlay_unless_chosen(use_deepseek, user):
    token = await database_sync_to_async(overlay_token_get)()
    socket = overlay_socket(f"token={token}")
    assert (await socket.connect())[0]
    await socket.receive_json_from()

    def web_reply() -> None:
        conversation = conversation_for_owner(owner=user, conversation_id=None)
        conversation_reply(
            conversation=conversation, speaker=Speaker(user=user, channel=Channel.WEB), text="hi"
        )

    await database_sync_to_async(web_reply)()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_the_address_can_narrow_the_surfaces_but_not_widen_them(use_deepseek):
    token = await database_sync_to_async(overlay_token_get)()
    socket = overlay_socket(f"token={token}&surfaces=discord,web")
    assert (await socket.connect())[0]
    hello = await socket.receive_json_from()
    assert hello["surfaces"] == ["discord"]
    await database_sync_to_async(twitch_question)("not for this overlay")
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_blocked_words_are_masked_on_the_overlay(use_deepseek, openai_server):
    openai_server.behaviour.reply = "The secret spoiler is out."

    def block() -> None:
        row = runtime_settings_get()
        row.stream_blocklist = "spoiler"
        row.save()

    await database_sync_to_async(block)()
    token = await database_sync_to_async(overlay_token_get)()
    socket = overlay_socket(f"token={token}")
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await database_sync_to_async(twitch_question)("any SPOILER today?")
    events = await events_until_done(socket)
    assert events[0]["question"] == "any ••• today?"
    assert events[-1]["text"] == "The secret ••• is out."
    assert all("spoiler" not in event.get("text", "").lower() for event in events)
    await socket.disconnect()


async def test_rotating_the_token_closes_the_overlays_open_with_the_old_one(use_deepseek):
    token = await database_sync_to_async(overlay_token_get)()
    socket = overlay_socket(f"token={token}")
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await database_sync_to_async(overlay_token_rotate)()
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403}
    assert not (await overlay_socket(f"token={token}").connect())[0]


async def test_a_reply_goes_on_when_the_overlay_cannot_be_told(
    use_deepseek, openai_server, monkeypatch
):
    openai_server.behaviour.reply = "Still answering."
    layer = get_channel_layer()

    async def broken(*args, **kwargs):
        raise ConnectionError("the channel layer is down")

    monkeypatch.setattr(layer, "group_send", broken)
    await database_sync_to_async(twitch_question)("are you there?")
    replies = Message.objects.filter(role=Role.ASSISTANT).values_list("content", flat=True)
    assert await database_sync_to_async(list)(replies) == ["Still answering."]


async def test_open_overlays_follow_a_change_of_surfaces_at_once(use_deepseek):
    from overlay.services import stream_settings_update

    token = await database_sync_to_async(overlay_token_get)()
    socket = overlay_socket(f"token={token}")
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await database_sync_to_async(stream_settings_update)(
        overlay_surfaces=["web"], overlay_fade_seconds=30
    )
    hello = await socket.receive_json_from(timeout=5)
    assert (hello["type"], hello["surfaces"], hello["fade_seconds"]) == ("hello", ["web"], 30)
    await socket.disconnect()
