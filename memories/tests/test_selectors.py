import pytest
from django.db import connection

from memories.models import Memory, MemoryEmbedding, MemorySource, MemoryStatus
from memories.selectors import (
    MemoryFilters,
    memories_for_prompt,
    memory_rank,
    memory_search,
)
from memories.services import (
    memories_create_bulk,
    memories_delete,
    memory_delete,
    memory_reject,
    memory_update,
)
from memories.subjects import Subject
from memories.tests.conftest import fts_rowids

pytestmark = pytest.mark.django_db


def prompt_for(query: str, **speaker) -> list[str]:
    found = memories_for_prompt(query=query, limit=3, token_budget=1000, **speaker)
    return [memory.content for memory in found]


def test_a_relevant_memory_comes_before_more_important_unrelated_ones(remember):
    remember("Luma never swears on stream.", importance=10)
    remember("The channel's mascot is a red fox.", importance=9)
    remember("Kai's favourite game is Beat Saber.", importance=4)

    assert prompt_for("Which game does Kai like?")[0] == "Kai's favourite game is Beat Saber."


def test_search_ranks_importance_over_age(remember, aged):
    trivia = remember("Kai once played chess on stream.", importance=2)
    core = aged(remember("Kai plays chess every Sunday.", importance=9), days=60)

    ranked = [item.memory for item in memory_rank(queryset=Memory.objects, query="chess")]

    assert ranked == [core, trivia]


def test_a_recent_memory_outranks_an_old_one_of_equal_importance(remember, aged):
    old = aged(remember("Mina's cat is called Tofu.", importance=5), days=400)
    new = remember("Mina's cat is called Mochi.", importance=5)

    ranked = [item.memory for item in memory_rank(queryset=Memory.objects, query="Mina cat")]

    assert ranked == [new, old]


def test_meaning_is_found_without_shared_words(remember):
    guitar = remember("Kai plays the guitar in a band.")
    remember("The stream starts at 8pm.")

    ranked = memory_rank(queryset=Memory.objects, query="musical instruments")

    assert [item.memory for item in ranked] == [guitar]
    assert ranked[0].lexical_rank is None and ranked[0].similarity > 0.3


def test_another_users_private_memory_is_never_in_the_prompt(remember, user, other_user):
    remember("The stranger's bank PIN hint is pizza.", subject_user=other_user, importance=10)
    remember("The stranger from Discord loves pizza.", subject_discord_id="99", importance=10)
    remember("Pizza nights are on Fridays.")

    assert prompt_for("pizza", user=user) == ["Pizza nights are on Fridays."]
    assert prompt_for("pizza", discord_id="42") == ["Pizza nights are on Fridays."]


def test_pending_and_rejected_memories_are_never_in_the_prompt(remember, user):
    remember("Kai likes pineapple pizza.", source=MemorySource.AI_SUGGESTED)
    rejected = remember("Kai hates pizza.", source=MemorySource.AI_SUGGESTED)
    memory_reject(memory=rejected, reviewer=user)

    assert prompt_for("Kai pizza") == []


def test_retrieval_is_lexical_when_there_are_no_embeddings(remember, lexical_only):
    remember("Kai plays the guitar in a band.")
    wanted = remember("Mina bakes sourdough bread.")

    ranked = memory_rank(queryset=Memory.objects, query="who bakes bread?")

    assert [item.memory for item in ranked] == [wanted]
    assert not MemoryEmbedding.objects.exists()


def test_retrieval_is_lexical_while_embeddings_are_missing(remember):
    wanted = remember("Mina bakes sourdough bread.")
    MemoryEmbedding.objects.all().delete()

    ranked = memory_rank(queryset=Memory.objects, query="sourdough")

    assert [(item.memory, item.similarity) for item in ranked] == [(wanted, None)]


def test_an_edited_memory_is_found_by_its_new_words_only(remember, lexical_only):
    memory = remember("Kai streams on Fridays.")
    memory_update(memory=memory, content="Kai streams on Saturdays.")

    assert [i.memory for i in memory_rank(queryset=Memory.objects, query="saturdays")] == [memory]
    assert memory_rank(queryset=Memory.objects, query="fridays") == []


def test_a_stale_vector_is_not_used_after_an_edit(remember, settings):
    memory = remember("Kai plays the guitar in a band.")
    assert memory_rank(queryset=Memory.objects, query="musical instruments")
    settings.LUMA_EMBEDDING_SOURCE = "none"  # the new embedding has not been computed yet
    memory_update(memory=memory, content="Kai collects stamps.")
    settings.LUMA_EMBEDDING_SOURCE = "minilm"

    assert memory_rank(queryset=Memory.objects, query="musical instruments") == []


def test_deleted_memories_leave_the_index(remember, lexical_only):
    first = remember("Kai streams on Fridays.")
    second = remember("Mina streams on Fridays too.")
    third = remember("Zed streams on Fridays as well.")
    memory_delete(memory=first)
    memories_delete(memory_ids=[second.pk])

    assert [i.memory for i in memory_rank(queryset=Memory.objects, query="fridays")] == [third]
    assert fts_rowids() in ({third.pk}, None)


def test_bulk_created_memories_are_searchable_at_once(db):
    memories_create_bulk(
        memories=[Memory(content=f"Viewer {i} likes game number {i}.") for i in range(300)],
        embed=False,
    )

    ranked = memory_rank(queryset=Memory.objects, query="game number 123")

    assert ranked[0].memory.content == "Viewer 123 likes game number 123."


def test_search_query_syntax_is_treated_as_text(remember):
    wanted = remember('Kai said "NEAR" AND OR NOT * ( ) ^ are FTS words.')

    ranked = memory_rank(queryset=Memory.objects, query='"NEAR" AND (OR* ^ NOT')

    assert [item.memory for item in ranked] == [wanted]


def test_search_filters_and_paginates(remember, user, lexical_only):
    for i in range(5):
        remember(f"Fact {i} about games.", importance=i + 3, tags=["games"])
    remember("A pending games fact.", source=MemorySource.AI_SUGGESTED, importance=9)
    remember("Games for the viewer.", subject_user=user, tags=["games", "viewer"])

    count, page = memory_search(
        queryset=Memory.objects,
        query="games",
        filters=MemoryFilters(status=MemoryStatus.APPROVED, tags=("games",), importance_min=5),
        offset=1,
        limit=2,
    )
    everyone, _ = memory_search(
        queryset=Memory.objects,
        query="",
        filters=MemoryFilters(subject=Subject(), source="manual"),
        offset=0,
        limit=10,
    )

    assert count == 4
    assert [item.memory.importance for item in page] == [6, 5]
    assert page[0].score >= page[1].score > 0
    assert everyone == 5


@pytest.fixture
def few_ranked_rows(monkeypatch):
    """Make 5 rows the most SQLite ranks with bm25, so a handful of memories behaves
    like 100,000 (where common words match tens of thousands)."""
    from memories import search_index

    monkeypatch.setattr(search_index, "RANKED_ROWS", 5)


def contents(query: str) -> list[str]:
    return [item.memory.content for item in memory_rank(queryset=Memory.objects, query=query)]


def test_common_words_do_not_drown_a_rare_one(remember, lexical_only, few_ranked_rows):
    for i in range(8):
        remember(f"Kai likes games, part {i}.")
    remember("Kai likes zeppelins.")

    assert contents("Kai games zeppelins")[0] == "Kai likes zeppelins."


@pytest.mark.parametrize("batch", [2, 128])
def test_a_word_too_common_to_rank_finds_the_newest_matches_the_queryset_holds(
    remember, lexical_only, few_ranked_rows, monkeypatch, user, batch
):
    """Unranked, the newest matches come first; FTS5's rowids are read newest first in
    batches (2: over several, and then the rest at once), and only those the queryset
    holds count, however few of the newest those are."""
    from memories import search_index

    monkeypatch.setattr(search_index, "_NEWEST_BATCH", batch)
    mine = []
    for i in range(14):
        about = {"subject_user": user} if i % 4 == 0 else {}
        memory = remember(f"Kai plays chess, game {i}.", **about)
        if about:
            mine.append(memory.pk)
    remember("Mina paints foxes.", subject_user=user)
    theirs = Memory.objects.filter(subject_user=user)

    found = [item.memory.pk for item in memory_rank(queryset=theirs, query="chess")]
    assert found == sorted(mine, reverse=True)
    limited = memory_rank(queryset=Memory.objects, query="chess", limit=3)
    assert [item.memory.content for item in limited] == [
        "Kai plays chess, game 13.",
        "Kai plays chess, game 12.",
        "Kai plays chess, game 11.",
    ]
    assert memory_rank(queryset=Memory.objects.none(), query="chess") == []


def test_when_every_word_is_common_memories_with_all_of_them_are_found(
    remember, lexical_only, few_ranked_rows
):
    for i in range(6):
        remember(f"Kai plays chess, game {i}.")
        remember(f"Mina plays tennis, set {i}.")
    remember("Kai plays tennis with Mina.")

    found = contents("kai tennis")
    assert found[0] == "Kai plays tennis with Mina."
    if connection.vendor == "sqlite":
        # Over the bm25 budget, SQLite ranks only the rows having every word.
        assert found == ["Kai plays tennis with Mina."]
    assert len(contents("plays")) == 13
