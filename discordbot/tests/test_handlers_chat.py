import itertools
import re
import time

import pytest
from asgiref.sync import sync_to_async

from chat.models import Channel, Conversation, Message, Role
from discordbot.formatting import split_message
from discordbot.handlers import handle_chat
from discordbot.tests.fakes import FakeChannel
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
