"""Discord drops an interaction not acknowledged within 3 seconds: every command and
button defers first, then answers, and an answer the work could not give still
reaches the caller. The per-role table is in test_access.py."""

import asyncio
import logging
import threading

import pytest
from asgiref.sync import sync_to_async

from discordbot import handlers, services
from discordbot.handlers import (
    SOMETHING_WENT_WRONG,
    handle_chat,
    handle_forget,
    handle_memories,
    handle_remember,
    handle_review_button,
)
from discordbot.tests.fakes import FakeInteraction, FakeMessage
from memories.models import Memory, MemorySource
from memories.services import memory_create

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

COLD_INDEX_SECONDS = 8.0  # loading the vector index of 50,000 memories on 2 cores


async def chat(interaction: FakeInteraction) -> None:
    await handle_chat(interaction, "hello", edit_interval=0.01)


async def remember(interaction: FakeInteraction) -> None:
    await handle_remember(interaction, "I main Zelda.")


async def memories(interaction: FakeInteraction) -> None:
    await handle_memories(interaction, "zelda")


async def forget(interaction: FakeInteraction) -> None:
    await handle_forget(interaction, 1)


async def approve(interaction: FakeInteraction) -> None:
    interaction.message = FakeMessage(content="suggestion", view="buttons")
    await handle_review_button(interaction, 1, approve=True)


# handler -> the service it does its work through
COMMANDS = {
    "chat": (chat, "conversation_for_discord_channel"),
    "remember": (remember, "discord_memory_remember"),
    "memories": (memories, "discord_memories_list"),
    "forget": (forget, "discord_memory_forget"),
    "Approve button": (approve, "suggestion_review"),
}


class ColdIndex:
    """The first search after a restart: it blocks until the test lets it go, and
    takes COLD_INDEX_SECONDS of the interactions' clock."""

    def __init__(self, interaction: FakeInteraction) -> None:
        self.interaction = interaction
        self.started = threading.Event()
        self.loaded = threading.Event()
        self.real_search = services.memory_search

    def search(self, **kwargs):
        self.interaction.log.append("search")
        self.started.set()
        assert self.loaded.wait(10), "the test never let the index load"
        self.interaction.clock.advance(COLD_INDEX_SECONDS)
        return self.real_search(**kwargs)

    async def wait_until_searching(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 10), "the search never started"


async def test_memories_answers_at_once_while_a_cold_index_loads(
    alice, interaction_for, monkeypatch
):
    await sync_to_async(memory_create)(content="Alice mains Zelda.", subject_discord_id="111")
    interaction = interaction_for(alice)
    cold = ColdIndex(interaction)
    monkeypatch.setattr(services, "memory_search", cold.search)

    command = asyncio.create_task(handle_memories(interaction, "zelda"))
    await cold.wait_until_searching()

    assert interaction.log == ["defer", "search"]  # acknowledged before the search began
    assert interaction.response.deferred_ephemeral  # "thinking…" only the caller sees
    assert interaction.original.content == ""
    cold.loaded.set()
    await command

    (text,) = interaction.ephemeral_texts
    assert "Alice mains Zelda." in text
    assert interaction.public_texts == []
    assert interaction.clock() >= COLD_INDEX_SECONDS  # the answer came long after the window


async def test_other_commands_are_acknowledged_while_a_search_loads_the_index(
    alice, bob, moderator, interaction_for, monkeypatch
):
    first = interaction_for(alice)
    cold = ColdIndex(first)
    monkeypatch.setattr(services, "memory_search", cold.search)
    searching = asyncio.create_task(handle_memories(first, "zelda"))
    await cold.wait_until_searching()

    others = [interaction_for(bob), interaction_for(moderator)]
    waiting = [
        asyncio.create_task(handle_remember(others[0], "I main Link.")),
        asyncio.create_task(handle_memories(others[1])),
    ]
    await asyncio.sleep(0.05)

    assert [other.log[:1] for other in others] == [["defer"], ["defer"]]
    cold.loaded.set()
    await asyncio.gather(searching, *waiting)
    assert others[0].ephemeral_texts[0].startswith("Got it!")
    assert "don't remember anything about you" in others[1].ephemeral_texts[0]


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_an_interaction_that_expired_before_its_acknowledgement_is_left_alone(
    use_deepseek, bot_settings, alice, interaction_for, caplog, command
):
    action, _ = COMMANDS[command]
    interaction = interaction_for(alice)
    interaction.clock.advance(4)  # the bot was busy (or offline) past Discord's window

    with caplog.at_level(logging.INFO, logger="discordbot"):
        await action(interaction)

    assert interaction.log == ["defer too late"]  # no work, no follow-up
    (record,) = [r for r in caplog.records if r.name.startswith("discordbot")]
    assert "expired before it was acknowledged" in record.getMessage()
    assert not await sync_to_async(Memory.objects.exists)()


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_an_unexpected_failure_still_reaches_the_caller_privately(
    use_deepseek, bot_settings, moderator, interaction_for, monkeypatch, caplog, command
):
    action, service = COMMANDS[command]

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(handlers, service, broken)
    interaction = interaction_for(moderator)

    with caplog.at_level(logging.ERROR, logger="discordbot"):
        await action(interaction)

    assert interaction.log[0] == "defer"
    assert interaction.ephemeral_texts == [SOMETHING_WENT_WRONG]
    assert interaction.public_texts == []
    assert "the database went away" in caplog.text  # the operator sees why


async def test_a_refused_review_keeps_the_buttons_and_answers_only_the_clicker(
    bot_settings, alice, interaction_for
):
    memory = await sync_to_async(memory_create)(
        content="Alice likes mochi.", source=MemorySource.AI_SUGGESTED
    )
    message = FakeMessage(content="suggestion", view="buttons")
    interaction = interaction_for(alice, message=message)

    await handle_review_button(interaction, memory.pk, approve=True)

    assert interaction.log == ["defer", "followup"]
    assert (message.content, message.view, message.edits) == ("suggestion", "buttons", [])
    assert interaction.ephemeral_texts == ["Sorry, only moderators can review memory suggestions."]
