"""The WebSocket as a table: every message type, sent by every role, through the
ASGI application (session and origin checked as in production)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat.consumers import MESSAGE_TYPES
from chat.models import Message
from chat.services import Speaker, conversation_start, message_store_user
from chat.tests.test_websocket_security import session_cookie_for
from config.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
ROLES = ("anonymous", "viewer", "moderator", "owner")


def someone_elses_conversation(stranger):
    conversation = conversation_start(owner=stranger)
    message = message_store_user(
        conversation=conversation, speaker=Speaker(user=stranger), text="hi"
    )
    return conversation.pk, message.pk


# The first event each message gets, for a logged-in role (anonymous sockets never open).
# `send` variants: a new chat, someone else's conversation, resending someone else's message;
# continuing in someone else's conversation.
TABLE = [
    ("send", lambda ids: {"type": "send", "text": "hello"}, "user_message"),
    ("send", lambda ids: {"type": "send", "text": "x", "conversation_id": ids[0]}, "error"),
    ("send", lambda ids: {"type": "send", "text": "", "resend_of": ids[1]}, "error"),
    ("stop", lambda ids: {"type": "stop"}, None),
    (
        "continue",
        lambda ids: {"type": "continue", "conversation_id": ids[0], "continue_of": ids[1]},
        "error",
    ),
    (
        "regenerate",
        lambda ids: {"type": "regenerate", "conversation_id": ids[0], "message_id": ids[1]},
        "error",
    ),
    (
        "edit",
        lambda ids: {"type": "edit", "conversation_id": ids[0], "message_id": ids[1], "text": "x"},
        "error",
    ),
    ("settings", lambda ids: {"type": "settings", "deepseek_base_url": "http://evil"}, "error"),
]


async def open_socket(role: str, people: dict) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if role != "anonymous":
        headers.append((b"cookie", await session_cookie_for(people[role])))
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


@pytest.fixture
def people(user, moderator_user, admin_user):
    return {"viewer": user, "moderator": moderator_user, "owner": admin_user}


async def test_every_message_type_has_a_row():
    assert {kind for kind, _, _ in TABLE} - {"settings"} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("kind", "payload", "first"), TABLE, ids=[
    "send-new", "send-someone-elses-conversation", "resend-someone-elses-message", "stop",
    "continue-someone-elses-reply", "regenerate-someone-elses-reply",
    "edit-someone-elses-message", "unknown-type"])  # fmt: skip
async def test_each_role_gets_what_the_table_says(
    use_deepseek, people, other_user, role, kind, payload, first
):
    ids = await sync_to_async(someone_elses_conversation)(other_user)
    socket = await open_socket(role, people)
    connected, code = await socket.connect()
    if role == "anonymous":
        assert (connected, code) == (False, 4401)
        return
    assert connected
    await socket.send_json_to(payload(ids))
    if first is None:
        assert await socket.receive_nothing(timeout=0.3)
    else:
        event = await socket.receive_json_from(timeout=10)
        assert event["type"] == first, event
        if first == "error":
            assert event["message"]
    await socket.disconnect()
    # Nothing reached the other person's conversation.
    assert await Message.objects.filter(conversation_id=ids[0]).acount() == 1
    assert (await Message.objects.aget(pk=ids[1])).content == "hi"
