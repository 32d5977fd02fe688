import pytest
from asgiref.sync import sync_to_async

from discordbot.handlers import handle_forget, handle_memories, handle_remember
from memories.models import Memory, MemoryStatus
from memories.services import memory_create

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def remember(content: str, discord_id: str = "", **kwargs) -> Memory:
    return memory_create(content=content, subject_discord_id=discord_id, **kwargs)


aremember = sync_to_async(remember)
memory_exists = sync_to_async(lambda pk: Memory.objects.filter(pk=pk).exists())


async def test_remember_adds_a_memory_about_the_caller(alice, interaction_for):
    interaction = interaction_for(alice)

    await handle_remember(interaction, "I main Zelda in Smash.")

    memory = await sync_to_async(Memory.objects.get)()
    assert (memory.content, memory.subject_discord_id, memory.subject_name) == (
        "I main Zelda in Smash.",
        "111",
        "Alice",
    )
    assert memory.status == MemoryStatus.APPROVED
    assert interaction.ephemeral_texts == [
        f"Got it! I'll remember this about you (memory #{memory.pk})."
    ]


async def test_only_moderators_add_memories_about_everyone(
    bot_settings, alice, moderator, interaction_for
):
    refused = interaction_for(alice)
    await handle_remember(refused, "Streams start at 8pm.", about_everyone=True)
    assert refused.ephemeral_texts == ["Only moderators can add memories about everyone."]
    assert not await sync_to_async(Memory.objects.exists)()

    allowed = interaction_for(moderator)
    await handle_remember(allowed, "Streams start at 8pm.", about_everyone=True)
    memory = await sync_to_async(Memory.objects.get)()
    assert memory.is_global
    assert "about everyone" in allowed.ephemeral_texts[0]


async def test_remember_refuses_an_empty_memory(alice, interaction_for):
    interaction = interaction_for(alice)

    await handle_remember(interaction, "   ")

    assert interaction.ephemeral_texts[0].startswith("content:")
    assert not await sync_to_async(Memory.objects.exists)()


async def test_memories_lists_the_callers_memories_and_nobody_elses(alice, interaction_for):
    mine = await aremember("Alice loves cats.", "111")
    await aremember("Bob's address is secret.", "222")
    await aremember("The stream is on Fridays.")
    await aremember("Alice's pending suggestion.", "111", source="ai_suggested")

    interaction = interaction_for(alice)
    await handle_memories(interaction)

    (text,) = interaction.ephemeral_texts
    assert f"`#{mine.pk}` Alice loves cats." in text
    assert "Bob" not in text
    assert "Fridays" not in text
    assert "pending" not in text
    assert interaction.public_texts == []


async def test_memories_with_a_query_finds_the_matching_ones(alice, interaction_for):
    await aremember("Alice loves cats.", "111")
    await aremember("Alice plays the violin.", "111")
    await aremember("Bob plays the violin too.", "222")

    interaction = interaction_for(alice)
    await handle_memories(interaction, "violin")

    (text,) = interaction.ephemeral_texts
    assert "Alice plays the violin." in text
    assert "cats" not in text
    assert "Bob" not in text


@pytest.mark.parametrize("query", ['violin" OR *', "NEAR(", "'; DROP TABLE", "***"])
async def test_memories_copes_with_search_syntax_in_the_query(alice, interaction_for, query):
    await aremember("Alice plays the violin.", "111")
    interaction = interaction_for(alice)

    await handle_memories(interaction, query)

    assert len(interaction.ephemeral_texts) == 1


async def test_a_long_list_fits_in_one_message(alice, interaction_for):
    for i in range(25):
        await aremember(f"Alice fact number {i}: " + "blah " * 40, "111")
    interaction = interaction_for(alice)

    await handle_memories(interaction)

    (text,) = interaction.ephemeral_texts
    assert len(text) <= 2000
    assert text.count("Alice fact number") >= 10


async def test_memories_says_so_when_there_are_none(bob, interaction_for):
    interaction = interaction_for(bob)

    await handle_memories(interaction)

    assert "don't remember anything about you" in interaction.ephemeral_texts[0]


async def test_forget_deletes_the_callers_own_memory(alice, interaction_for):
    mine = await aremember("Alice loves cats.", "111")
    interaction = interaction_for(alice)

    await handle_forget(interaction, mine.pk)

    assert not await memory_exists(mine.pk)
    assert interaction.ephemeral_texts == [f"Done: I forgot memory #{mine.pk}."]


async def test_forget_cannot_touch_another_users_or_a_global_memory(alice, interaction_for):
    bobs = await aremember("Bob's address is secret.", "222")
    everyone = await aremember("The stream is on Fridays.")

    for memory in (bobs, everyone):
        interaction = interaction_for(alice)
        await handle_forget(interaction, memory.pk)
        assert interaction.ephemeral_texts == [f"You have no memory #{memory.pk}."]
        assert await memory_exists(memory.pk)
