import asyncio

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
    openai_server.behaviour.chunk_delay = 0.01  # tokens that pile up go out as one message
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


@pytest.mark.parametrize(
    ("who", "says"),
    [("user", "The model server failed. Try again in a moment"), ("admin_user", "failed (500")],
)
async def test_a_provider_failure_is_an_error_event_and_the_message_stays(
    use_deepseek, openai_server, user, admin_user, who, says
):
    openai_server.behaviour.status = 500
    communicator = await connect({"user": user, "admin_user": admin_user}[who])
    await communicator.send_json_to({"type": "send", "text": "still there?"})

    events = await events_until_idle(communicator)
    error = next(e for e in events if e["type"] == "error")

    # The owner gets the server's words and the fix; a viewer what they can do.
    assert says in error["message"]
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


# ---- conversations that survive real models (issue 12) ------------------------------


def chat_prompts(server) -> list[list[dict]]:
    """Every prompt the fake OpenAI-compatible server was sent, oldest first."""
    return [r["json"]["messages"] for r in server.requests if r["path"] == "/v1/chat/completions"]


def alternates(prompt: list[dict]) -> bool:
    """system, then user, assistant, user… ending on a user turn."""
    roles = [m["role"] for m in prompt]
    expected = ["system"] + ["user" if i % 2 == 0 else "assistant" for i in range(len(roles) - 1)]
    return roles == expected and roles[-1] == "user"


def kinds_of(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


@pytest.fixture(
    params=[
        ("use_deepseek", "openai_server", "tags"),
        ("use_ollama", "ollama_server", "tags"),
        ("use_ollama", "ollama_server", "field"),
        ("use_deepseek", "openai_server", "field"),
    ],
    ids=lambda p: f"{p[1]}-{p[2]}",
)
def reasoning_server(request):
    """A fake server of each kind, chosen in Settings, playing a reasoning model that
    marks its thinking (`<think>` tags split across chunks, or a field of its own)."""
    use_provider, server_name, reasoning_as = request.param
    request.getfixturevalue(use_provider)
    server = request.getfixturevalue(server_name)
    server.behaviour.reasoning_as = reasoning_as
    return server


async def test_reasoning_streams_apart_from_the_reply(reasoning_server, user):
    server = reasoning_server
    server.behaviour.chunk_delay = 0.005
    thinking = "The viewer says hi, so I should greet them warmly and ask about their day."
    server.behaviour.reply = "Hi there! How was your day?"
    server.behaviour.reasoning = thinking
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hi Luma"})

    events = await events_until_idle(communicator)
    reasoning, tokens = of_type(events, "reasoning"), of_type(events, "token")
    (done,) = of_type(events, "done")

    assert reasoning, kinds_of(events)
    assert "".join(e["text"] for e in reasoning).strip() == thinking
    assert "".join(e["text"] for e in tokens).strip() == "Hi there! How was your day?"
    for token in tokens:
        assert "<" not in token["text"] and ">" not in token["text"], token
        assert "think" not in token["text"].lower() and "greet" not in token["text"], token
    # The thinking comes before the answer's first word.
    kinds = [e["type"] for e in events if e["type"] in ("reasoning", "token")]
    assert kinds.index("token") > max(i for i, k in enumerate(kinds) if k == "reasoning")
    assert done["content"] == "Hi there! How was your day?"
    assert done["reasoning"] == thinking
    assert isinstance(done["reasoning_seconds"], float) and done["reasoning_seconds"] >= 0
    assert done["status"] == "complete"
    assert "think" not in done["html"].lower() and "greet" not in done["html"]
    stored = await Message.objects.aget(pk=done["id"])
    assert (stored.content, stored.reasoning) == ("Hi there! How was your day?", thinking)
    await communicator.disconnect()


@pytest.fixture(
    params=[("use_deepseek", "openai_server"), ("use_ollama", "ollama_server")], ids=lambda p: p[1]
)
def any_server(request):
    """The fake server of each kind, chosen in Settings."""
    use_provider, server_name = request.param
    request.getfixturevalue(use_provider)
    return request.getfixturevalue(server_name)


def prompts_of(server) -> list[list[dict]]:
    """Every chat prompt a fake server (of either kind) was sent, oldest first."""
    paths = ("/v1/chat/completions", "/api/chat")
    return [r["json"]["messages"] for r in server.requests if r["path"] in paths]


async def test_a_cut_off_reply_is_marked_and_continue_extends_it(any_server, user):
    any_server.behaviour.reply = "My three favourite games are"
    any_server.behaviour.finish_reason = "length"
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "favourite games?"})
    (cut,) = of_type(await events_until_idle(communicator), "done")

    assert cut["status"] == "length"
    assert cut["content"] == "My three favourite games are"

    any_server.behaviour.reply = " Celeste, Hades and Outer Wilds."
    any_server.behaviour.finish_reason = "stop"
    await communicator.send_json_to(
        {"type": "continue", "conversation_id": cut["conversation_id"], "continue_of": cut["id"]}
    )
    events = await events_until_idle(communicator)
    kinds = [e["type"] for e in events]

    assert kinds[0] == "continuing" and kinds[-2:] == ["done", "idle"]
    assert "user_message" not in kinds and "error" not in kinds
    continuing, done = events[0], events[-2]
    assert continuing["id"] == cut["id"]
    assert continuing["content"] == "My three favourite games are"
    tokens = "".join(e["text"] for e in of_type(events, "token"))
    assert tokens == " Celeste, Hades and Outer Wilds."
    assert done["id"] == cut["id"]
    assert done["content"] == "My three favourite games are Celeste, Hades and Outer Wilds."
    assert done["status"] == "complete"
    stored = await Message.objects.aget(pk=cut["id"])
    assert stored.content == done["content"]
    assert await Message.objects.filter(conversation_id=cut["conversation_id"]).acount() == 2
    prompt = prompts_of(any_server)[-1]
    assert alternates(prompt)
    assert prompt[-2] == {"role": "assistant", "content": "My three favourite games are"}
    assert prompt[-3]["content"] == "favourite games?"
    await communicator.disconnect()


async def test_a_reply_that_breaks_off_is_done_as_interrupted_then_an_error(any_server, user):
    any_server.behaviour.reply = "Half of an answer, then nothing."
    any_server.behaviour.garbage = True
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "tell me everything"})

    events = await events_until_idle(communicator)
    kinds = [e["type"] for e in events]

    assert kinds == ["user_message", "token", "done", "error", "idle"]
    done, error = events[2], events[3]
    assert done["status"] == "interrupted"
    assert done["content"] == "Half"
    assert done["stopped"] is False
    assert error["reply_id"] == done["id"]
    assert error["user_message_id"] == events[0]["id"]
    assert error["conversation_id"] == done["conversation_id"]
    assert "broke off" in error["message"]
    stored = await Message.objects.aget(pk=done["id"])
    assert (stored.role, stored.content, stored.status) == (Role.ASSISTANT, "Half", "interrupted")
    # Nothing is retried once text was shown: one request only.
    assert len(prompts_of(any_server)) == 1
    await communicator.disconnect()


async def test_an_empty_deepseek_balance_tells_the_owner_to_top_up(
    use_deepseek, openai_server, admin_user
):
    openai_server.behaviour.status = 402
    openai_server.behaviour.error_message = "Insufficient Balance"
    communicator = await connect(admin_user)
    await communicator.send_json_to({"type": "send", "text": "are you there?"})

    events = await events_until_idle(communicator)
    kinds = [e["type"] for e in events]
    (error,) = of_type(events, "error")

    assert kinds == ["user_message", "error", "idle"]
    message = error["message"].lower()
    assert "balance" in message
    assert "top up" in message or "top_up" in message
    assert "insufficient balance" in message  # the server's own words are quoted
    assert "sk-test-secret-key-1234" not in error["message"]
    assert error["user_message_id"] == events[0]["id"]
    # Not worth retrying: an empty account does not refill itself in a second.
    assert len(chat_prompts(openai_server)) == 1
    assert not await Message.objects.filter(role=Role.ASSISTANT).aexists()
    await communicator.disconnect()


async def test_an_empty_balance_tells_a_viewer_to_tell_the_owner(use_deepseek, openai_server, user):
    openai_server.behaviour.status = 402
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "are you there?"})

    (error,) = of_type(await events_until_idle(communicator), "error")

    assert error["message"] == "The model provider's account has run out of credit: tell the owner."
    await communicator.disconnect()


async def test_two_sockets_sending_on_one_conversation_at_once_both_get_a_reply(
    use_deepseek, openai_server, user
):
    first, second = await connect(user), await connect(user)
    await first.send_json_to({"type": "send", "text": "start"})
    (opening,) = of_type(await events_until_idle(first), "done")
    conversation_id = opening["conversation_id"]
    await second.receive_json_from(timeout=5)  # conversation_updated (user_message)
    await second.receive_json_from(timeout=5)  # conversation_updated (done)

    openai_server.behaviour.reply = "One reply at a time, in order, for everyone here."
    openai_server.behaviour.chunk_delay = 0.02
    await first.send_json_to(
        {"type": "send", "text": "from tab one", "conversation_id": conversation_id}
    )
    await second.send_json_to(
        {"type": "send", "text": "from tab two", "conversation_id": conversation_id}
    )

    async def own_events(communicator) -> list[dict]:
        events = await events_until_idle(communicator)
        return [e for e in events if e["type"] != "conversation_updated"]

    first_events, second_events = await asyncio.gather(own_events(first), own_events(second))
    dones = [of_type(first_events, "done"), of_type(second_events, "done")]

    assert [len(d) for d in dones] == [1, 1]
    assert of_type(first_events, "error") == [] and of_type(second_events, "error") == []
    (first_done,), (second_done,) = dones
    assert first_done["content"] == "One reply at a time, in order, for everyone here."
    assert second_done["content"] == "One reply at a time, in order, for everyone here."
    prompts = chat_prompts(openai_server)
    assert all(alternates(prompt) for prompt in prompts), prompts
    replies = [m async for m in Message.objects.filter(role=Role.ASSISTANT).order_by("pk")]
    # Two replies, or one that answered both: never a message answered twice.
    assert len(prompts) == len(replies)
    together = [d for d in (first_done, second_done) if d["together"]]
    if together:
        assert len(replies) == 2 and first_done["id"] == second_done["id"]
        assert "from tab one\n\nfrom tab two" in prompts[-1][-1]["content"] or (
            "from tab two\n\nfrom tab one" in prompts[-1][-1]["content"]
        )
    else:
        assert len(replies) == 3 and first_done["id"] != second_done["id"]
        assert prompts[-1][-2]["role"] == "assistant"  # the later prompt saw the earlier reply
    said = "\n".join(m["content"] for m in prompts[-1])
    assert "from tab one" in said and "from tab two" in said
    for communicator in (first, second):
        await communicator.disconnect()


async def test_thinking_whose_opening_tag_was_in_the_prompt_is_kept_out_of_the_stored_reply(
    use_deepseek, openai_server, user
):
    thinking = "They said hi; greet them back."
    openai_server.behaviour.reply = "Hi there!"
    openai_server.behaviour.reasoning = thinking
    openai_server.behaviour.reasoning_as = "open-in-prompt"
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hi"})

    (done,) = of_type(await events_until_idle(communicator), "done")

    assert (done["content"], done["reasoning"], done["status"]) == (
        "Hi there!",
        thinking,
        "complete",
    )
    assert "think" not in done["html"].lower()
    stored = await Message.objects.aget(pk=done["id"])
    assert (stored.content, stored.reasoning) == ("Hi there!", thinking)
    await communicator.disconnect()


async def test_thinking_whose_opening_tag_was_in_the_prompt_is_moved_out_when_the_tag_comes(
    use_deepseek, openai_server, user
):
    # Nothing marks the start of the thinking, so it streams as text until `</think>`
    # arrives; then the page is told to move it into the thinking, and only the answer
    # follows. The closing tag itself never reaches the page.
    openai_server.behaviour.reply = "Hi there!"
    openai_server.behaviour.reasoning = "They said hi; greet them back."
    openai_server.behaviour.reasoning_as = "open-in-prompt"
    communicator = await connect(user)
    await communicator.send_json_to({"type": "send", "text": "hi"})

    events = await events_until_idle(communicator)
    await communicator.disconnect()

    kinds = [e["type"] for e in events]
    recast = kinds.index("reply_was_reasoning")
    before = "".join(e.get("text", "") for e in events[:recast] if e["type"] == "token")
    after = "".join(e["text"] for e in events[recast:] if e["type"] == "token")
    assert "They said hi" in before and "</" not in before
    assert after.strip() == "Hi there!"
    assert kinds.count("reply_was_reasoning") == 1
