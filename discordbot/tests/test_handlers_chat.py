import asyncio
import itertools
import re
import time

import pytest
from asgiref.sync import sync_to_async

from chat.models import Channel, Conversation, Message, ReplyStatus, Role
from discordbot.formatting import split_message
from discordbot.handlers import ANSWERED_TOGETHER, STATUS_NOTES, handle_chat
from discordbot.tests.fakes import MISSING, FakeChannel
from luma.services import runtime_settings_update
from memories.services import memory_create
from providers.testing.fakes import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def stored_messages(channel_id: int) -> list[Message]:
    conversation = Conversation.objects.get(discord_channel_id=str(channel_id))
    return list(conversation.messages.all())


async def test_chat_stores_both_messages_as_discord_with_usage(
    use_deepseek, openai_server, alice, interaction_for
):
    openai_server.behaviour.reply = "Hi Alice, welcome back to the stream!"
    interaction = interaction_for(alice, FakeChannel(id=4242, name="chill"))

    await handle_chat(interaction, "hello Luma", edit_interval=0.01)

    assert interaction.response.deferred
    assert interaction.public_texts == ["Hi Alice, welcome back to the stream!"]
    user_message, reply = await stored_messages(4242)
    assert (user_message.role, user_message.content, user_message.channel) == (
        Role.USER,
        "hello Luma",
        Channel.DISCORD,
    )
    assert (user_message.author_discord_id, user_message.author_name) == ("111", "Alice")
    assert (reply.role, reply.content, reply.channel) == (
        Role.ASSISTANT,
        "Hi Alice, welcome back to the stream!",
        Channel.DISCORD,
    )
    assert (reply.provider, reply.model, reply.prompt_tokens) == ("deepseek", "fake-chat", 11)
    assert reply.completion_tokens > 0 and not reply.usage_estimated
    conversation = await sync_to_async(Conversation.objects.get)(discord_channel_id="4242")
    assert conversation.channel == Channel.DISCORD
    assert conversation.title == "Discord #chill"


async def test_chat_uses_the_callers_memories_and_not_another_users(
    use_deepseek, openai_server, alice, interaction_for
):
    await sync_to_async(memory_create)(
        content="Alice's cat is called Mochi.", subject_discord_id="111"
    )
    await sync_to_async(memory_create)(
        content="Bob's secret is pineapple pizza.", subject_discord_id="222"
    )
    await sync_to_async(memory_create)(content="The stream is on Fridays.")

    await handle_chat(interaction_for(alice), "what do you know about me?", edit_interval=0.01)

    system = openai_server.requests[-1]["json"]["messages"][0]["content"]
    assert "Mochi" in system
    assert "Fridays" in system
    assert "pineapple" not in system
    assert "Alice" in system


async def test_each_channel_keeps_its_own_conversation(
    use_deepseek, openai_server, alice, bob, interaction_for
):
    await handle_chat(interaction_for(alice, FakeChannel(id=1)), "in one", edit_interval=0.01)
    await handle_chat(interaction_for(bob, FakeChannel(id=2)), "in two", edit_interval=0.01)
    await handle_chat(interaction_for(bob, FakeChannel(id=1)), "one again", edit_interval=0.01)

    assert [m.content for m in await stored_messages(1) if m.role == Role.USER] == [
        "in one",
        "one again",
    ]
    assert len(await stored_messages(2)) == 2
    history = openai_server.requests[-1]["json"]["messages"]
    assert "Alice: in one" in [m["content"] for m in history]  # the channel's history, by name


async def test_streaming_edits_are_throttled(use_deepseek, openai_server, alice, interaction_for):
    words = [f"w{i}" for i in range(40)]
    openai_server.behaviour.reply = " ".join(words)
    openai_server.behaviour.chunk_delay = 0.02  # 40 chunks over ~0.8 s
    interaction = interaction_for(alice)

    started = time.monotonic()
    await handle_chat(interaction, "count for me", edit_interval=0.2)
    elapsed = time.monotonic() - started

    edits = interaction.original.edits
    gaps = [later - earlier for earlier, later in itertools.pairwise(edits)]
    assert all(gap >= 0.19 for gap in gaps)  # never faster than the interval
    assert 3 <= len(edits) <= elapsed / 0.2 + 1  # it streamed, with far fewer edits than chunks
    assert len(edits) < len(words) / 2
    assert interaction.public_texts == [" ".join(words)]


async def test_a_long_reply_is_split_into_messages_that_each_render(
    use_deepseek, openai_server, alice, interaction_for
):
    code = "\n".join(f"    total += {i}  # step {i}" for i in range(120))
    reply = "Here is the loop you asked for:\n\n```python\n" + code + "\n```\n\nHave fun coding!"
    openai_server.behaviour.reply = reply
    interaction = interaction_for(alice)

    await handle_chat(interaction, "write me a long loop", edit_interval=0.0)

    parts = interaction.public_texts
    assert parts == split_message(reply)  # streaming ended on the same clean split
    assert len(parts) >= 2
    assert all(len(part) <= 2000 for part in parts)
    assert all(len(re.findall("```", part)) % 2 == 0 for part in parts)
    assert parts[0].startswith("Here is the loop")
    assert all(part.startswith("```python") for part in parts[1:])
    assert parts[-1].endswith("Have fun coding!")
    kept = [line for part in parts for line in part.splitlines() if "total +=" in line]
    assert kept == code.splitlines()
    (_, stored) = await stored_messages(555)
    assert stored.content == reply  # the whole reply is stored once


async def test_a_provider_failure_gives_an_ephemeral_message_and_the_bot_goes_on(
    use_deepseek, openai_server, alice, interaction_for
):
    openai_server.behaviour.status = 401
    interaction = interaction_for(alice)

    await handle_chat(interaction, "are you there?", edit_interval=0.01)

    assert interaction.public_texts == []  # the "thinking…" message is gone
    (error,) = interaction.ephemeral_texts
    assert "key" in error.lower() and len(error) <= 500
    assert [m.role for m in await stored_messages(555)] == [Role.USER]

    openai_server.behaviour.status = 200
    again = interaction_for(alice)
    await handle_chat(again, "and now?", edit_interval=0.01)
    assert again.public_texts == ["Hello from the fake model."]


async def test_an_unreachable_model_server_gives_an_ephemeral_message(
    use_deepseek, alice, interaction_for
):
    await sync_to_async(runtime_settings_update)(
        deepseek_base_url=f"http://127.0.0.1:{free_port()}/v1", deepseek_api_key="sk-test"
    )
    interaction = interaction_for(alice)

    await handle_chat(interaction, "hello?", edit_interval=0.01)

    assert interaction.public_texts == []
    assert len(interaction.ephemeral_texts) == 1


async def test_an_empty_message_is_refused_politely(use_deepseek, alice, interaction_for):
    interaction = interaction_for(alice)

    await handle_chat(interaction, "   ", edit_interval=0.01)

    assert interaction.ephemeral_texts == ["The message is empty."]


# ---- conversations that survive real models (issue 12) ------------------------------


def record_everything_shown(interaction) -> list[str]:
    """Every text the interaction put in front of anyone, including each streaming edit."""
    shown: list[str] = []
    edit_original, send_followup = interaction.edit_original_response, interaction.followup.send

    async def edit_original_response(*, content=MISSING, **kwargs):
        if content is not MISSING:
            shown.append(content)
        return await edit_original(content=content, **kwargs)

    async def followup_send(content, **kwargs):
        shown.append(content)
        return await send_followup(content, **kwargs)

    interaction.edit_original_response = edit_original_response
    interaction.followup.send = followup_send
    return shown


def chat_prompts(server) -> list[list[dict]]:
    return [r["json"]["messages"] for r in server.requests if r["path"] == "/v1/chat/completions"]


def alternates(prompt: list[dict]) -> bool:
    roles = [m["role"] for m in prompt]
    expected = ["system"] + ["user" if i % 2 == 0 else "assistant" for i in range(len(roles) - 1)]
    return roles == expected and roles[-1] == "user"


@pytest.fixture(
    params=[("use_deepseek", "openai_server"), ("use_ollama", "ollama_server")], ids=lambda p: p[1]
)
def thinking_server(request):
    """A reasoning model on each kind of server, its `<think>` tags split across chunks."""
    use_provider, server_name = request.param
    request.getfixturevalue(use_provider)
    server = request.getfixturevalue(server_name)
    server.behaviour.reasoning = "Alice greets me, so I will greet her back warmly."
    server.behaviour.reasoning_as = "tags"
    server.behaviour.reply = "Hey Alice, great to see you in chat today!"
    return server


async def test_a_reasoning_models_thinking_is_never_shown(thinking_server, alice, interaction_for):
    interaction = interaction_for(alice, FakeChannel(id=8080))
    shown = record_everything_shown(interaction)

    await handle_chat(interaction, "hi Luma", edit_interval=0.0)

    assert interaction.public_texts == ["Hey Alice, great to see you in chat today!"]
    assert interaction.ephemeral_texts == []
    assert len(shown) >= 3  # it streamed, edit by edit
    for text in shown:
        assert "<" not in text and ">" not in text, text
        assert "think" not in text.lower() and "warmly" not in text, text
    assert shown[-1] == "Hey Alice, great to see you in chat today!"
    (_, reply) = await stored_messages(8080)
    assert reply.content == "Hey Alice, great to see you in chat today!"
    assert reply.reasoning == "Alice greets me, so I will greet her back warmly."


async def test_a_reply_cut_off_by_max_tokens_ends_with_the_length_note(
    use_deepseek, openai_server, alice, interaction_for
):
    openai_server.behaviour.reply = "The three games I would pick are"
    openai_server.behaviour.finish_reason = "length"
    interaction = interaction_for(alice)

    await handle_chat(interaction, "pick three games", edit_interval=0.01)

    note = STATUS_NOTES[ReplyStatus.LENGTH]
    assert note.startswith("-# ")  # Discord's small text
    assert interaction.public_texts == [f"The three games I would pick are\n{note}"]
    assert interaction.ephemeral_texts == []
    (_, reply) = await stored_messages(555)
    assert (reply.content, reply.status) == ("The three games I would pick are", ReplyStatus.LENGTH)


async def test_a_reply_that_breaks_off_stays_shown_and_the_error_follows_privately(
    use_deepseek, openai_server, alice, interaction_for
):
    openai_server.behaviour.reply = "Half of an answer, then the server died."
    openai_server.behaviour.garbage = True
    interaction = interaction_for(alice)

    await handle_chat(interaction, "tell me a story", edit_interval=0.01)

    note = STATUS_NOTES[ReplyStatus.INTERRUPTED]
    assert interaction.original is not None and not interaction.original.deleted
    assert interaction.public_texts == [f"Half\n{note}"]
    (error,) = interaction.ephemeral_texts
    assert "broke off" in error and len(error) <= 500
    assert "Half" not in error
    (_, reply) = await stored_messages(555)
    assert (reply.content, reply.status) == ("Half", ReplyStatus.INTERRUPTED)
    assert interaction.log[-1] == "followup"  # the error came after the kept reply


async def test_two_viewers_in_one_channel_at_the_same_moment_each_get_an_answer(
    use_deepseek, openai_server, alice, bob, interaction_for
):
    openai_server.behaviour.reply = "Welcome, both of you, to the stream!"
    openai_server.behaviour.chunk_delay = 0.02
    from_alice = interaction_for(alice, FakeChannel(id=9090, name="live"))
    from_bob = interaction_for(bob, FakeChannel(id=9090, name="live"))

    await asyncio.gather(
        handle_chat(from_alice, "hi from Alice", edit_interval=0.01),
        handle_chat(from_bob, "hi from Bob", edit_interval=0.01),
    )

    finals = [from_alice.public_texts, from_bob.public_texts]
    assert all(len(texts) == 1 for texts in finals), finals
    assert from_alice.ephemeral_texts == [] and from_bob.ephemeral_texts == []
    prompts = chat_prompts(openai_server)
    assert all(alternates(prompt) for prompt in prompts), prompts
    said = "\n".join(m["content"] for m in prompts[-1])
    assert "Alice: hi from Alice" in said and "Bob: hi from Bob" in said
    messages = await stored_messages(9090)
    replies = [m for m in messages if m.role == Role.ASSISTANT]
    assert len(replies) == len(prompts)
    texts = [texts[0] for texts in finals]
    if len(replies) == 1:  # the later viewer's message was answered with the first
        assert sorted(texts) == sorted([ANSWERED_TOGETHER, "Welcome, both of you, to the stream!"])
        assert "Alice: hi from Alice\n\nBob: hi from Bob" in prompts[0][-1]["content"] or (
            "Bob: hi from Bob\n\nAlice: hi from Alice" in prompts[0][-1]["content"]
        )
    else:
        assert len(replies) == 2
        assert texts == ["Welcome, both of you, to the stream!"] * 2
        assert prompts[-1][-2] == {
            "role": "assistant",
            "content": "Welcome, both of you, to the stream!",
        }
    assert sorted(m.content for m in messages if m.role == Role.USER) == [
        "hi from Alice",
        "hi from Bob",
    ]


async def test_thinking_whose_opening_tag_was_in_the_prompt_is_replaced_by_the_answer(
    use_deepseek, openai_server, alice, interaction_for
):
    # Nothing marks the thinking's start; once `</think>` comes, the answer replaces it.
    openai_server.behaviour.reasoning = "Alice greets me, so I will greet her back warmly."
    openai_server.behaviour.reasoning_as = "open-in-prompt"
    openai_server.behaviour.reply = "Hey Alice!"
    interaction = interaction_for(alice)
    shown = record_everything_shown(interaction)

    await handle_chat(interaction, "hi Luma", edit_interval=0.0)

    assert interaction.public_texts == ["Hey Alice!"]
    assert [text for text in shown if "</" in text] == []
    first_answer = next(i for i, text in enumerate(shown) if "Hey" in text)
    assert [text for text in shown[first_answer:] if "warmly" in text] == []


async def test_the_break_off_error_in_discord_asks_for_nothing_discord_lacks(
    use_deepseek, openai_server, alice, interaction_for
):
    openai_server.behaviour.garbage = True
    interaction = interaction_for(alice)

    await handle_chat(interaction, "tell me a story", edit_interval=0.01)

    (error,) = interaction.ephemeral_texts
    assert "broke off" in error
    assert "Continue" not in error
