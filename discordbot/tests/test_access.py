"""Every bot command and button as a table, for each kind of Discord user.

Discord users are not Luma accounts; what they may do comes from the bot settings'
moderator roles and user ids. The four columns: someone in a DM (no roles), a server
member (viewer), a member with a moderator role, and a moderator by user id (the
streamer, who owns the server). Each row also holds when every service is slow:
the interaction is acknowledged before the work, whoever asks and whatever the answer.
"""

import discord
import pytest
from asgiref.sync import sync_to_async

from discordbot import handlers
from discordbot.bot import register_commands
from discordbot.handlers import (
    handle_chat,
    handle_forget,
    handle_memories,
    handle_remember,
    handle_review_button,
)
from discordbot.tests.conftest import MOD_ROLE_ID
from discordbot.tests.fakes import FakeInteraction, FakeMember, FakeMessage, FakeRole
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

MEMBERS = {
    "dm": FakeMember(id=501, display_name="Dee"),
    "viewer": FakeMember(id=502, display_name="Vee", roles=[FakeRole(1)]),
    "moderator": FakeMember(id=503, display_name="Mo", roles=[FakeRole(MOD_ROLE_ID)]),
    "owner": FakeMember(id=444, display_name="Streamer"),  # listed in moderator_user_ids
}


@sync_to_async
def setup_memories() -> dict[str, Memory]:
    return {
        "theirs": memory_create(content="Stranger's secret.", subject_discord_id="999"),
        "global": memory_create(content="Streams start at 8pm."),
        "suggestion": memory_create(content="Vee likes mochi.", source=MemorySource.AI_SUGGESTED),
    }


async def chat(interaction, made):
    await handle_chat(interaction, "hello", edit_interval=0.01)
    return bool(interaction.public_texts)


async def remember_me(interaction, made):
    await handle_remember(interaction, "I main Zelda.")
    return interaction.ephemeral_texts[0].startswith("Got it")


async def remember_everyone(interaction, made):
    await handle_remember(interaction, "Merch drops Friday.", about_everyone=True)
    return interaction.ephemeral_texts[0].startswith("Got it")


async def memories(interaction, made):
    await handle_memories(interaction)
    return (
        "secret" not in interaction.ephemeral_texts[0]
        and "8pm" not in interaction.ephemeral_texts[0]
    )


async def forget_theirs(interaction, made):
    await handle_forget(interaction, made["theirs"].pk)
    return interaction.ephemeral_texts[0].startswith("Done")


async def forget_global(interaction, made):
    await handle_forget(interaction, made["global"].pk)
    return interaction.ephemeral_texts[0].startswith("Done")


async def approve(interaction, made):
    interaction.message = FakeMessage(content="suggestion", view="buttons")
    await handle_review_button(interaction, made["suggestion"].pk, approve=True)
    status = await sync_to_async(lambda: Memory.objects.get(pk=made["suggestion"].pk).status)()
    return status == MemoryStatus.APPROVED


async def reject(interaction, made):
    interaction.message = FakeMessage(content="suggestion", view="buttons")
    await handle_review_button(interaction, made["suggestion"].pk, approve=False)
    status = await sync_to_async(lambda: Memory.objects.get(pk=made["suggestion"].pk).status)()
    return status == MemoryStatus.REJECTED


# command -> whether it succeeds for (dm, viewer, moderator, owner)
TABLE = {
    "chat": (chat, (True, True, True, True)),
    "remember": (remember_me, (True, True, True, True)),
    "remember about_everyone": (remember_everyone, (False, False, True, True)),
    "memories": (memories, (True, True, True, True)),
    "forget someone else's": (forget_theirs, (False, False, False, False)),
    "forget a global memory": (forget_global, (False, False, False, False)),
    "Approve button": (approve, (False, False, True, True)),
    "Reject button": (reject, (False, False, True, True)),
}


async def test_every_slash_command_has_a_row():
    tree = discord.app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    register_commands(tree)
    assert {command.name for command in tree.get_commands()} == {
        name.split()[0] for name in TABLE if not name.endswith("button")
    }


@pytest.mark.parametrize("who", list(MEMBERS))
@pytest.mark.parametrize("command", list(TABLE))
async def test_each_discord_user_gets_what_the_table_says(
    use_deepseek, bot_settings, interaction_for, command, who
):
    made = await setup_memories()
    action, allowed = TABLE[command]
    interaction = interaction_for(MEMBERS[who])
    succeeded = await action(interaction, made)
    assert succeeded is allowed[list(MEMBERS).index(who)]
    assert await sync_to_async(Memory.objects.filter(pk=made["theirs"].pk).exists)()


# The services each handler reaches Luma through (the conversation for /chat).
SERVICES = [
    "conversation_for_discord_channel",
    "discord_memory_remember",
    "discord_memories_list",
    "discord_memory_forget",
    "suggestion_review",
]
SLOW_SECONDS = 8.0  # the first search after a restart, at 50,000 memories


def slow_services(monkeypatch, interaction: FakeInteraction) -> None:
    """Every service notes when it starts and takes 8 s of the interaction's clock:
    an answer sent after it would reach Discord too late."""
    for name in SERVICES:
        real = getattr(handlers, name)

        def slow(*args, _real=real, **kwargs):
            interaction.log.append("work")
            interaction.clock.advance(SLOW_SECONDS)
            return _real(*args, **kwargs)

        monkeypatch.setattr(handlers, name, slow)


@pytest.mark.parametrize("who", list(MEMBERS))
@pytest.mark.parametrize("command", list(TABLE))
async def test_each_command_is_acknowledged_before_its_slow_work(
    use_deepseek, bot_settings, interaction_for, monkeypatch, command, who
):
    made = await setup_memories()
    action, allowed = TABLE[command]
    interaction = interaction_for(MEMBERS[who])
    slow_services(monkeypatch, interaction)

    succeeded = await action(interaction, made)

    assert succeeded is allowed[list(MEMBERS).index(who)]
    assert interaction.log[:2] == ["defer", "work"]
    assert not interaction.response.thinking  # the "thinking…" message got its answer
    if command != "chat":
        assert interaction.public_texts == []  # only the caller sees the answer
