import pytest

from memories.models import Memory, MemorySource, MemoryStatus
from memories.selectors import memories_for_prompt
from memories.services import (
    InvalidMemory,
    SuggestionAlreadyReviewed,
    memory_approve,
    memory_create,
    memory_reject,
)


@pytest.mark.django_db
def test_ai_suggestions_start_pending_and_manual_memories_approved():
    assert memory_create(content="A manual fact.").status == MemoryStatus.APPROVED
    suggested = memory_create(content="A suggested fact.", source=MemorySource.AI_SUGGESTED)
    assert suggested.status == MemoryStatus.PENDING


@pytest.mark.django_db
def test_importance_outside_one_to_ten_is_refused():
    with pytest.raises(InvalidMemory, match="importance"):
        memory_create(content="Too important.", importance=11)
    assert not Memory.objects.exists()


@pytest.mark.django_db
def test_tags_are_normalised():
    memory = memory_create(content="x", tags=[" Games", "games", "", "Music "])
    assert memory.tags == ["games", "music"]


@pytest.mark.django_db
def test_it_refuses_to_review_a_suggestion_twice(user):
    pending = memory_create(content="Kai streams on Fridays.", source=MemorySource.AI_SUGGESTED)
    memory_approve(memory=pending, reviewer=user)
    with pytest.raises(SuggestionAlreadyReviewed):
        memory_reject(memory=pending, reviewer=user)
    pending.refresh_from_db()
    assert pending.status == MemoryStatus.APPROVED


@pytest.mark.django_db
def test_approving_with_edits_saves_the_edited_text():
    pending = memory_create(content="Kai streams on fridays", source=MemorySource.AI_SUGGESTED)
    approved = memory_approve(
        memory=pending, content="Kai streams on Fridays at 9pm.", importance=7
    )
    assert (approved.content, approved.importance, approved.status) == (
        "Kai streams on Fridays at 9pm.",
        7,
        MemoryStatus.APPROVED,
    )


@pytest.mark.django_db
def test_approving_an_update_suggestion_revises_the_original_memory():
    original = memory_create(content="Kai's favourite game is Osu!", importance=5)
    update = memory_create(
        content="Kai's favourite game is now Beat Saber.",
        source=MemorySource.AI_SUGGESTED,
        updates=original,
        importance=6,
    )
    result = memory_approve(memory=update)
    assert result.pk == original.pk
    original.refresh_from_db()
    assert original.content == "Kai's favourite game is now Beat Saber."
    assert not Memory.objects.filter(pk=update.pk).exists()


@pytest.mark.django_db
def test_prompt_memories_are_approved_global_or_about_the_speaker(user, other_user):
    mine = memory_create(content="Viewer likes tea.", subject_user=user)
    memory_create(content="Stranger's secret.", subject_user=other_user)
    world = memory_create(content="The channel mascot is a fox.")
    memory_create(content="Pending thing.", source=MemorySource.AI_SUGGESTED)
    discord = memory_create(content="Discord pal plays bass.", subject_discord_id="42")

    for_user = memories_for_prompt(query="hi", user=user, limit=10, token_budget=1000)
    for_discord = memories_for_prompt(query="hi", discord_id="42", limit=10, token_budget=1000)

    assert set(for_user) == {mine, world}
    assert set(for_discord) == {discord, world}


@pytest.mark.django_db
def test_prompt_memories_respect_the_limit_and_the_token_budget():
    for i in range(5):
        memory_create(content=f"Fact number {i} " + "word " * 40, importance=i + 1)
    assert len(memories_for_prompt(query="x", limit=3, token_budget=10_000)) == 3
    assert len(memories_for_prompt(query="x", limit=10, token_budget=120)) == 2
    assert memories_for_prompt(query="x", limit=0, token_budget=10_000) == []
