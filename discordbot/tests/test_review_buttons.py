import pytest
from asgiref.sync import sync_to_async

from discordbot.handlers import handle_review_button, suggestion_text
from discordbot.models import PostedSuggestion
from discordbot.tests.fakes import FakeMember, FakeMessage
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def suggestion(content: str = "Alice's favourite snack is mochi.") -> Memory:
    return memory_create(
        content=content,
        source=MemorySource.AI_SUGGESTED,
        subject_discord_id="111",
        subject_name="Alice",
        importance=6,
    )


@sync_to_async
def status_of(memory: Memory) -> str:
    return Memory.objects.get(pk=memory.pk).status


def posted(memory: Memory) -> FakeMessage:
    return FakeMessage(content=suggestion_text(memory), view="the buttons")


async def test_a_moderator_role_approves_a_suggestion(bot_settings, moderator, interaction_for):
    memory = await suggestion()
    message = posted(memory)
    interaction = interaction_for(moderator, message=message)

    await handle_review_button(interaction, memory.pk, approve=True)

    assert await status_of(memory) == MemoryStatus.APPROVED
    assert message.view is None  # the buttons are gone
    assert message.content.endswith("✅ Approved by Mod")
    assert "mochi" in message.content


async def test_a_moderator_by_user_id_rejects_a_suggestion(bot_settings, interaction_for):
    memory = await suggestion()
    await sync_to_async(PostedSuggestion.objects.create)(
        memory=memory, channel_id="777", message_id="1"
    )
    message = posted(memory)
    listed_user = FakeMember(id=445, display_name="Helper")

    await handle_review_button(
        interaction_for(listed_user, message=message), memory.pk, approve=False
    )

    assert await status_of(memory) == MemoryStatus.REJECTED
    assert message.content.endswith("❌ Rejected by Helper")
    post = await sync_to_async(PostedSuggestion.objects.get)(memory=memory)
    assert (post.reviewed_by_discord_id, post.reviewed_by_name) == ("445", "Helper")


async def test_everyone_else_is_refused_politely(bot_settings, alice, interaction_for):
    memory = await suggestion()
    message = posted(memory)
    interaction = interaction_for(alice, message=message)

    await handle_review_button(interaction, memory.pk, approve=True)

    assert await status_of(memory) == MemoryStatus.PENDING
    assert interaction.ephemeral_texts == ["Sorry, only moderators can review memory suggestions."]
    assert message.view == "the buttons"
    assert message.edits == []


async def test_without_configured_moderators_nobody_may_review(db, moderator, interaction_for):
    memory = await suggestion()
    interaction = interaction_for(moderator, message=posted(memory))

    await handle_review_button(interaction, memory.pk, approve=True)

    assert await status_of(memory) == MemoryStatus.PENDING
    assert len(interaction.ephemeral_texts) == 1


async def test_a_second_review_is_refused_and_the_buttons_removed(
    bot_settings, moderator, interaction_for
):
    memory = await suggestion()
    await handle_review_button(
        interaction_for(moderator, message=posted(memory)), memory.pk, approve=True
    )

    message = posted(memory)
    late = interaction_for(moderator, message=message)
    await handle_review_button(late, memory.pk, approve=False)

    assert await status_of(memory) == MemoryStatus.APPROVED
    assert message.view is None
    assert late.followup.sent[0].ephemeral
    assert late.followup.sent[0].content == "This suggestion was already reviewed."


async def test_a_deleted_suggestion_is_reported(bot_settings, moderator, interaction_for):
    interaction = interaction_for(moderator, message=FakeMessage(content="old"))

    await handle_review_button(interaction, 987654, approve=True)

    assert interaction.ephemeral_texts == ["This suggestion no longer exists."]
