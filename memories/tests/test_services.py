from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from memories.models import Memory, MemorySource, MemoryStatus, SuggestionRun
from memories.selectors import memories_for_prompt
from memories.services import (
    ANALYZE_AFTER_ROWS,
    InvalidMemory,
    SuggestionAlreadyReviewed,
    memories_create_bulk,
    memory_approve,
    memory_create,
    memory_reject,
    memory_update,
    suggestion_run_record,
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
def test_approving_an_update_suggestion_supersedes_the_original_memory():
    original = memory_create(content="Kai's favourite game is Osu!", importance=5)
    update = memory_create(
        content="Kai's favourite game is now Beat Saber.",
        source=MemorySource.AI_SUGGESTED,
        updates=original,
        importance=6,
    )
    result = memory_approve(memory=update)
    assert (result.pk, result.supersedes) == (update.pk, original)
    original.refresh_from_db()
    assert original.content == "Kai's favourite game is Osu!"
    assert original.valid_until is not None


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


@pytest.mark.django_db
def test_a_suggestion_keeps_its_first_wording_through_edits_and_approval(user):
    pending = memory_create(
        content="Kai has a cat named Tofu.", source=MemorySource.AI_SUGGESTED, subject_user=user
    )
    memory_update(memory=pending, content="Kai's cat is Tofu.")
    approved = memory_approve(memory=pending, content="Kai's ginger cat is called Tofu.")

    approved.refresh_from_db()
    assert (approved.content, approved.suggested_content) == (
        "Kai's ginger cat is called Tofu.",
        "Kai has a cat named Tofu.",
    )
    assert memory_create(content="Written by hand.").suggested_content == ""


@pytest.mark.django_db
def test_a_run_keeps_the_answer_only_when_something_was_dropped():
    fine = suggestion_run_record(
        reply_message_id=1, kept=2, decided=0, skipped=1, problems=[], answer="[...]"
    )
    lossy = suggestion_run_record(
        reply_message_id=2,
        kept=0,
        decided=1,
        skipped=0,
        problems=["item 1: content: Field required"],
        answer="x\x00" * 3000,
    )

    assert (fine.dropped, fine.answer) == (0, "")
    assert (lossy.dropped, lossy.answer) == (1, "x" * 2000)


@pytest.mark.django_db
def test_runs_add_up_over_the_days_asked_and_old_ones_go():
    def record(days_ago: int, **counts) -> SuggestionRun:
        run = suggestion_run_record(
            reply_message_id=None,
            **{"kept": 0, "decided": 0, "skipped": 0, "problems": [], **counts},
            answer="",
        )
        when = timezone.now() - timedelta(days=days_ago)
        SuggestionRun.objects.filter(pk=run.pk).update(created_at=when)
        return run

    record(40, kept=9)
    record(10, kept=5, problems=["a"])
    record(1, kept=1, decided=2, problems=["b", "c"])
    record(0, skipped=3)

    assert SuggestionRun.objects.since(days=7).totals() == {
        "runs": 2,
        "kept": 1,
        "dropped": 2,
        "decided": 2,
        "skipped": 3,
        "withheld": 0,
        "withheld_categories": {},
    }
    assert SuggestionRun.objects.count() == 3  # the 40-day-old run went with a later record
    assert SuggestionRun.objects.none().totals()["dropped"] == 0


@pytest.mark.django_db
def test_a_large_bulk_create_refreshes_postgresqls_statistics():
    """Searches are planned from them: stale, PostgreSQL scanned every visible memory."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps planner statistics; SQLite plans without them")
    memories_create_bulk(
        memories=[Memory(content=f"fact {n}") for n in range(ANALYZE_AFTER_ROWS)], embed=False
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'memories_memory'")
        assert cursor.fetchone()[0] >= ANALYZE_AFTER_ROWS
