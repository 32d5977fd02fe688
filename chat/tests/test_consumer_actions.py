"""The chat socket's message actions (regenerate, edit and resend) and the Markdown it
renders while a reply streams."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat.consumers import ChatConsumer, _coalesced
from chat.models import Message
from chat.selectors import conversation_messages

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


async def first_exchange(communicator, openai_server, reply: str) -> dict:
    openai_server.behaviour.reply = reply
    await communicator.send_json_to({"type": "send", "text": "pick a game"})
    events = await events_until_idle(communicator)
    return next(e for e in events if e["type"] == "done")


async def shown(user, conversation_id: int) -> list[str]:
    messages = await sync_to_async(conversation_messages)(
        owner=user, conversation_id=conversation_id
    )
    return [message.content for message in messages]


async def test_regenerate_streams_a_new_version_and_keeps_the_old_one(
    use_deepseek, openai_server, user
):
    communicator = await connect(user)
    done = await first_exchange(communicator, openai_server, "Celeste.")
    openai_server.behaviour.reply = "Hades, surely."
    await communicator.send_json_to(
        {"type": "regenerate", "conversation_id": done["conversation_id"], "message_id": done["id"]}
    )
    events = await events_until_idle(communicator)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "regenerating" and events[0]["id"] == done["id"]
    again = next(e for e in events if e["type"] == "done")
    assert again["content"] == "Hades, surely."
    assert again["versions"] == [done["id"], again["id"]]
    assert await shown(user, done["conversation_id"]) == ["pick a game", "Hades, surely."]
    await communicator.disconnect()


async def test_edit_replaces_the_later_turns_over_the_socket(use_deepseek, openai_server, user):
    communicator = await connect(user)
    done = await first_exchange(communicator, openai_server, "Celeste.")
    user_message_id = (
        await Message.objects.filter(conversation_id=done["conversation_id"], role="user").afirst()
    ).pk
    openai_server.behaviour.reply = "A cat."
    await communicator.send_json_to(
        {"type": "edit", "conversation_id": done["conversation_id"],
         "message_id": user_message_id, "text": "pick a pet"}
    )  # fmt: skip
    events = await events_until_idle(communicator)
    assert events[0]["type"] == "user_message"
    assert (events[0]["id"], events[0]["content"]) == (user_message_id, "pick a pet")
    assert await shown(user, done["conversation_id"]) == ["pick a pet", "A cat."]
    await communicator.disconnect()


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "regenerate", "conversation_id": 1},
        {"type": "edit", "message_id": 1, "text": "x"},
        {"type": "regenerate", "conversation_id": "one", "message_id": 1},
    ],
)
async def test_an_action_without_its_ids_gets_an_error_and_the_socket_stays_usable(
    use_deepseek, openai_server, user, payload
):
    communicator = await connect(user)
    await communicator.send_json_to(payload)
    events = await events_until_idle(communicator)
    assert events[0]["type"] == "error"
    assert "conversation_id" in events[0]["message"]
    done = await first_exchange(communicator, openai_server, "Still here.")
    assert done["content"] == "Still here."
    await communicator.disconnect()


async def test_an_edit_to_empty_text_is_an_error_and_changes_nothing(
    use_deepseek, openai_server, user
):
    communicator = await connect(user)
    done = await first_exchange(communicator, openai_server, "Celeste.")
    user_message = await Message.objects.filter(
        conversation_id=done["conversation_id"], role="user"
    ).afirst()
    await communicator.send_json_to(
        {"type": "edit", "conversation_id": done["conversation_id"],
         "message_id": user_message.pk, "text": "   "}
    )  # fmt: skip
    events = await events_until_idle(communicator)
    assert [e["type"] for e in events] == ["error", "idle"]
    assert "empty" in events[0]["message"]
    assert await shown(user, done["conversation_id"]) == ["pick a game", "Celeste."]
    await communicator.disconnect()


async def test_markdown_renders_while_the_reply_streams(use_deepseek, openai_server, user):
    openai_server.behaviour.reply = "This is **bold** and then a long tail of words to come."
    openai_server.behaviour.chunk_delay = 0.1  # every token comes after a render interval
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hi"})
    events = await events_until_idle(communicator)
    tokens = [e for e in events if e["type"] == "token"]
    assert all("html" in token for token in tokens)
    bold_at = next(i for i, t in enumerate(tokens) if "<strong>bold</strong>" in t["html"])
    assert bold_at < len(tokens) - 3  # bold long before the end, not snapping in at the end
    assert "**" not in tokens[bold_at]["html"]
    await communicator.disconnect()


async def test_streamed_html_is_sanitised_like_the_finished_reply(
    use_deepseek, openai_server, user
):
    openai_server.behaviour.reply = (
        'Look <script>alert(1)</script> <img src=x onerror="alert(2)"> '
        "[click](javascript:alert(3)) done"
    )
    openai_server.behaviour.chunk_delay = 0.1
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hi"})
    events = await events_until_idle(communicator)
    renderings = [e["html"] for e in events if e["type"] in ("token", "done") and "html" in e]
    assert len(renderings) > 3
    for html in renderings:
        assert set(re.findall(r"<([a-z0-9]+)", html)) <= {"p", "a", "strong", "em", "code"}
        assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)" in renderings[-1]
    await communicator.disconnect()


async def test_coalesced_tokens_keep_the_newest_rendering():
    events = [
        {"type": "token", "text": "a", "html": "<p>a</p>"},
        {"type": "token", "text": "b"},
        {"type": "token", "text": "c", "html": "<p>abc</p>"},
        {"type": "token", "text": "d"},
    ]
    assert _coalesced(events) == [{"type": "token", "text": "abcd", "html": "<p>abc</p>"}]


async def test_a_fast_long_reply_is_rendered_a_few_times_not_once_a_token():
    """nativ #285: rendering the whole reply on every token froze the machine."""
    from chat.consumers import _Rendered

    rendered = _Rendered()
    rendered.add({"type": "user_message", "content": "hi"})
    events = [rendered.add({"type": "token", "text": "word "}) for _ in range(2000)]
    renders = [event for event in events if "html" in event]
    assert 1 <= len(renders) <= 3
    assert renders[0]["html"] == "<p>word</p>\n"

    # The next reply, however soon, starts rendered: its "**" never shows raw.
    for start in ({"type": "user_message", "content": "again"}, {"type": "regenerating"}):
        rendered.add(start)
        first = rendered.add({"type": "token", "text": "**Hi**"})
        assert first["html"] == "<p><strong>Hi</strong></p>\n"


async def test_an_unclosed_code_fence_streams_as_code(use_deepseek, openai_server, user):
    """nativ #285, synaplan #903: code and Markdown showed raw until the reply ended."""
    openai_server.behaviour.reply = (
        "Here:\n\n```python\nfor i in range(3):\n    print(i)\n```\nDone."
    )
    openai_server.behaviour.chunk_delay = 0.1
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "code please"})
    events = await events_until_idle(communicator)
    partial = [e["html"] for e in events if e["type"] == "token" and "print" in e.get("html", "")]
    assert partial and "```" not in partial[0]
    assert '<pre><code class="language-python">' in partial[0]
    await communicator.disconnect()
