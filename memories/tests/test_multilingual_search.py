"""Lexical search in every script: Chinese, Japanese, Korean, Thai, emoji and
mixed-script memories are found by their words, on SQLite and on PostgreSQL."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from memories.models import Memory
from memories.search_index import lexical_search, search_index_rebuild
from memories.selectors import MemoryFilters, memories_for_prompt, memory_search
from memories.services import (
    memories_create_bulk,
    memories_delete,
    memory_create,
    memory_delete,
    memory_update,
)

pytestmark = pytest.mark.django_db

ZELDA = "我最喜欢的游戏是塞尔达传说，每周五直播。"  # noqa: RUF001
MIKE = "私の猫の名前はミケです。"
NABI = "우리 고양이 이름은 나비예요"
THAI_CAT = "ฉันชอบแมวมาก"
MOCHI = "Mochi 🐱 is the best cat"
NEW_ZELDA = "Zeldaの新作"
OTHERS = [
    "Kai's favourite game is Beat Saber.",
    "我们每周六玩马里奥。",
    "私の犬の名前はポチです。",
    "우리 강아지는 바둑이예요",
    "ฉันชอบหมา",
    "Mochi 🐶 is a good dog",
    "Marioの新しいゲーム",
]


@pytest.fixture
def every_script(lexical_only) -> dict[str, Memory]:
    """The memories of every script, and look-alikes that must not be found."""
    for content in OTHERS:
        memory_create(content=content)
    return {
        content: memory_create(content=content)
        for content in (ZELDA, MIKE, NABI, THAI_CAT, MOCHI, NEW_ZELDA)
    }


def lexically_found(query: str) -> list[str]:
    hits = lexical_search(Memory.objects.all(), query, limit=10)
    contents = Memory.objects.in_bulk([pk for pk, _ in hits])
    return [contents[pk].content for pk, _ in hits]


def searched(query: str) -> list[str]:
    _, page = memory_search(
        queryset=Memory.objects.all(), query=query, filters=MemoryFilters(), offset=0, limit=10
    )
    return [item.memory.content for item in page]


def prompted(query: str) -> list[str]:
    found = memories_for_prompt(query=query, limit=3, token_budget=1000)
    return [memory.content for memory in found]


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("塞尔达", ZELDA),
        ("塞尔达传说", ZELDA),
        ("ミケ", MIKE),
        ("猫", MIKE),
        ("고양이", NABI),
        ("แมว", THAI_CAT),
        ("🐱", MOCHI),
        ("Zelda", NEW_ZELDA),
        ("新作", NEW_ZELDA),
    ],
)
def test_a_memory_in_any_script_is_found_by_its_words(every_script, query, wanted):
    assert lexically_found(query) == [wanted]
    assert searched(query) == [wanted]
    assert prompted(query)[0] == wanted


def test_a_question_in_japanese_finds_the_memory_it_asks_about(every_script):
    assert prompted("ミケって誰？")[0] == MIKE  # noqa: RUF001
    assert searched("塞尔达是什么游戏？")[0] == ZELDA  # noqa: RUF001


def test_a_memory_having_the_whole_query_comes_first(lexical_only):
    memory_create(content="塞尔达的音乐很好听，传说中的剑。")  # noqa: RUF001
    memory_create(content=ZELDA)

    assert lexically_found("塞尔达传说")[0] == ZELDA


def test_a_mixed_script_query_ranks_the_memory_with_both_parts_first(every_script):
    assert searched("Zelda新作")[0] == NEW_ZELDA
    assert searched("Mario新作")[0] == NEW_ZELDA
    assert "Marioの新しいゲーム" in searched("Mario新作")


def test_an_emoji_is_found_with_or_without_its_presentation_selector(lexical_only):
    heart = memory_create(content="Kai ❤️ ramen")
    plain = memory_create(content="Mina ❤ sushi")

    assert {pk for pk, _ in lexical_search(Memory.objects.all(), "❤", limit=5)} == {
        heart.pk,
        plain.pk,
    }
    assert {pk for pk, _ in lexical_search(Memory.objects.all(), "❤️", limit=5)} == {
        heart.pk,
        plain.pk,
    }


def test_hangul_with_a_particle_is_found_by_the_bare_word(lexical_only):
    memory = memory_create(content="고양이는 생선을 좋아해요")

    assert lexically_found("고양이") == [memory.content]


def test_an_edit_changes_what_a_cjk_memory_is_found_by(every_script):
    memory_update(memory=every_script[MIKE], content="私の猫の名前はタマです。")

    assert lexically_found("ミケ") == []
    assert lexically_found("タマ") == ["私の猫の名前はタマです。"]
    assert searched("タマ") == ["私の猫の名前はタマです。"]


def test_a_memory_edited_into_english_leaves_the_gram_index(every_script):
    memory_update(memory=every_script[NEW_ZELDA], content="The new Zelda game.")

    assert lexically_found("新作") == []
    assert lexically_found("Zelda") == ["The new Zelda game."]


def test_deleted_memories_are_no_longer_found(every_script):
    memory_delete(memory=every_script[MIKE])
    memories_delete(memory_ids=[every_script[MOCHI].pk])

    assert lexically_found("ミケ") == []
    assert lexically_found("🐱") == []
    assert searched("猫") == []


def test_a_rebuilt_index_still_finds_every_script(every_script):
    search_index_rebuild()

    assert lexically_found("塞尔达") == [ZELDA]
    assert lexically_found("猫") == [MIKE]
    assert lexically_found("🐱") == [MOCHI]
    assert lexically_found("Zelda") == [NEW_ZELDA]


def test_bulk_created_memories_are_found_in_every_script(lexical_only):
    memories_create_bulk(
        memories=[
            Memory(content=f"視聴者{i}番の推しは{'ミケ' if i == 7 else 'ポチ'}です")
            for i in range(50)
        ],
        embed=False,
    )

    assert lexically_found("ミケ") == ["視聴者7番の推しはミケです"]


def test_a_memory_only_the_speaker_may_see_stays_private_in_any_script(lexical_only, user):
    memory_create(content="私の猫の名前はミケです。", subject_user=user)

    assert memories_for_prompt(query="ミケ", limit=3, token_budget=1000) == []
    assert prompted_for_user("ミケ", user) == ["私の猫の名前はミケです。"]


def prompted_for_user(query: str, user) -> list[str]:
    found = memories_for_prompt(query=query, user=user, limit=3, token_budget=1000)
    return [memory.content for memory in found]


def test_english_queries_rank_as_before_beside_other_scripts(lexical_only):
    english = [
        memory_create(content="Kai's favourite game is Beat Saber."),
        memory_create(content="Kai plays chess every Sunday."),
        memory_create(content="Mina's favourite game is Tetris, she plays it daily."),
    ]
    before = lexical_search(Memory.objects.all(), "Which game does Kai like?", limit=10)
    for content in (ZELDA, MIKE, NABI, THAI_CAT, "Zeldaの新作 game"):
        memory_create(content=content)

    after = lexical_search(Memory.objects.all(), "Which game does Kai like?", limit=10)

    assert before[0][0] == english[0].pk
    assert [pk for pk, _ in after if pk in {m.pk for m in english}] == [pk for pk, _ in before]
    assert prompted("Which game does Kai like?")[0] == "Kai's favourite game is Beat Saber."


def test_with_embeddings_the_lexical_match_still_leads(db):
    for content in [*OTHERS, ZELDA, MIKE]:
        memory_create(content=content)

    assert prompted("ミケ")[0] == MIKE
    assert prompted("塞尔达")[0] == ZELDA


class _Editor:
    """What a migration's RunPython gets as `schema_editor`, without a new transaction."""

    connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_memories_written_before_the_migration_are_found_after_it(lexical_only):
    memory = memory_create(content="Zeldaの新作は猫が主役")
    if connection.vendor == "sqlite":
        # As an older release indexed it: the whole text in the word table only.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE memories_memory_trigram")
            cursor.execute("DELETE FROM memories_memory_fts WHERE rowid = %s", [memory.pk])
            cursor.execute(
                "INSERT INTO memories_memory_fts(rowid, content, tags) VALUES (%s, %s, '')",
                [memory.pk, memory.content],
            )
    else:
        # PostgreSQL indexes no table with writes pending in the same transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration = importlib.import_module("memories.migrations.0007_search_every_script")
    migration.drop_index(apps, _Editor())

    migration.create_index(apps, _Editor())

    assert lexically_found("猫") == [memory.content]
    assert lexically_found("Zelda") == [memory.content]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own functions")
def test_postgresql_sees_the_same_grams_and_words_as_python():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT luma_memory_grams(%s), luma_memory_spaced(%s)", ["Zeldaの新作 ❤️"] * 2
        )
        grams, spaced = cursor.fetchone()

    assert sorted(grams) == sorted(["の", "新", "作", "の新", "新作", "❤"])
    assert spaced == "Zelda の新作   ❤ ️"


def test_with_an_english_model_a_query_in_another_script_finds_only_its_words():
    """Found trying Luma as a new user: with MiniLM (English) every Chinese or Japanese
    memory came back for `猫`, as the model puts any two such sentences at 0.4-0.5,
    above the search's floor. Such a query is now searched by its words alone."""
    cat, saturday, zelda = (
        memory_create(content=content)
        for content in ("カイは猫が好き", "配信は毎週土曜日の夜です", ZELDA)
    )
    assert Memory.objects.filter(embedding__isnull=False).count() == 3  # embedded

    assert searched("猫") == [cat.content]
    assert searched("塞尔达") == [zelda.content]
    assert prompted("土曜日")[0] == saturday.content
