"""Facts that change: a newer fact supersedes the old one, which keeps its text as
a past fact; prompts use current facts unless the question is about the past; and
contradictions are recognised as updates, across languages as far as words allow."""

# ruff: noqa: RUF001 (Chinese and Japanese punctuation in the facts)
import io

import pytest

from memories.dedupe import memory_relation
from memories.facts import fact_slots, is_negated
from memories.models import Memory, MemorySource
from memories.selectors import memories_for_prompt
from memories.services import memory_approve, memory_create
from memories.subjects import Subject
from memories.timeframe import query_asks_about_the_past
from memories.transfer import memories_export, memories_import

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, payload=None):
    return getattr(client, method)(f"/api/memory{path}", payload, content_type="application/json")


def update_of(memory: Memory, content: str) -> Memory:
    return memory_create(
        content=content,
        source=MemorySource.AI_SUGGESTED,
        updates=memory,
        subject_user=memory.subject_user,
    )


def prompt(user, query: str) -> list[str]:
    return [
        m.prompt_text
        for m in memories_for_prompt(query=query, user=user, limit=8, token_budget=500)
    ]


def test_a_changed_preference_leaves_only_the_new_one_in_prompts_about_now(user):
    """mem0ai/mem0 #5193: "I like coffee" then "I don't like coffee anymore, I like tea
    now"; asking what I like to drink now returned both."""
    coffee = memory_create(content="Viewer likes drinking coffee.", subject_user=user)
    tea = memory_approve(memory=update_of(coffee, "Viewer likes drinking tea now, not coffee."))

    now = prompt(user, "What do I like to drink now?")

    assert now == ["Viewer likes drinking tea now, not coffee."]
    assert (tea.supersedes, tea.status) == (coffee, "approved")


def test_a_question_about_the_past_can_find_the_superseded_fact(user):
    coffee = memory_create(content="Viewer likes drinking coffee.", subject_user=user)
    memory_approve(memory=update_of(coffee, "Viewer likes drinking tea now."))

    before = prompt(user, "What did I like to drink before?")

    assert "Viewer likes drinking tea now." in before
    past = [line for line in before if line.startswith("Viewer likes drinking coffee.")]
    assert past and "(no longer true since" in past[0]
    assert any("coffee" in line for line in prompt(user, "我以前喜欢喝什么？ coffee"))


def test_a_contradiction_keeps_both_the_old_and_the_new_fact():
    """mem0ai/mem0 PR #4580 (issue #4536): a contradiction deleted the old memory and
    dropped the new one, leaving nothing."""
    old = memory_create(content="Kai loves Chinese food.")
    new = memory_approve(memory=update_of(old, "Kai hates Chinese food."))
    old.refresh_from_db()
    assert (old.content, old.valid_until is not None) == ("Kai loves Chinese food.", True)
    assert (new.content, new.valid_until, new.supersedes_id) == (
        "Kai hates Chinese food.",
        None,
        old.pk,
    )


def test_saying_a_fact_changed_keeps_the_old_memory_and_links_the_new_one(user_client, user):
    """snaveevans/openbrain #32: delete + create lost the fact's identity and history;
    supersede links old to new and keeps both."""
    old = memory_create(content="My boys are 8, 5 and 1.", subject_user=user, tags=["family"])

    body = send(
        user_client, "put", f"/{old.pk}", {"content": "My boys are 9, 6 and 2.", "supersede": True}
    ).json()

    assert body["id"] != old.pk
    assert (body["supersedes_id"], body["was"], body["tags"]) == (
        old.pk,
        "My boys are 8, 5 and 1.",
        ["family"],
    )
    again = send(user_client, "get", f"/{old.pk}").json()
    assert (again["content"], again["valid_until"] is not None) == ("My boys are 8, 5 and 1.", True)
    history = send(user_client, "get", f"/{old.pk}/history").json()
    assert history[0]["action"] == "superseded" and history[0]["changed"] == ["valid_until"]
    assert send(user_client, "get", f"/{body['id']}/history").json()[0]["action"] == "supersedes"
    assert [
        i["memory"]["id"] for i in send(user_client, "get", "/search?current=true").json()["items"]
    ] == [body["id"]]
    assert [
        i["memory"]["id"] for i in send(user_client, "get", "/search?current=false").json()["items"]
    ] == [old.pk]


def test_a_fact_is_superseded_once_and_only_when_approved(admin_client):
    old = memory_create(content="Streams start at 8pm.")
    first = send(admin_client, "put", f"/{old.pk}", {"content": "9pm.", "supersede": True})
    assert first.status_code == 200
    twice = send(admin_client, "put", f"/{old.pk}", {"content": "10pm.", "supersede": True})
    assert twice.status_code == 409
    pending = memory_create(content="Kai likes jazz.", source=MemorySource.AI_SUGGESTED)
    assert (
        send(admin_client, "put", f"/{pending.pk}", {"content": "x", "supersede": True}).status_code
        == 400
    )
    fresh = memory_create(content="Merch on Fridays.")
    no_text = send(admin_client, "put", f"/{fresh.pk}", {"importance": 7, "supersede": True})
    assert no_text.status_code == 400 and "content" in no_text.json()["message"]


def test_an_update_suggested_before_another_was_approved_revises_the_newest_fact():
    first = memory_create(content="Kai's main game is Osu!")
    to_beat_saber = update_of(first, "Kai's main game is Beat Saber.")
    to_tetris = update_of(first, "Kai's main game is Tetris.")
    beat_saber = memory_approve(memory=to_beat_saber)
    tetris = memory_approve(memory=to_tetris)
    beat_saber.refresh_from_db()
    assert (tetris.supersedes, beat_saber.supersedes) == (beat_saber, first)
    assert beat_saber.valid_until is not None and tetris.valid_until is None


def test_export_and_import_keep_what_superseded_what():
    old = memory_create(content="Kai lives in Berlin.")
    new = memory_approve(memory=update_of(old, "Kai lives in Munich."))
    out = io.StringIO()
    memories_export(out=out)
    Memory.objects.all().delete()
    memories_import(lines=out.getvalue().splitlines())
    again_new, again_old = Memory.objects.get(pk=new.pk), Memory.objects.get(pk=old.pk)
    assert again_new.supersedes_id == old.pk and again_old.valid_until is not None


@pytest.mark.parametrize(
    ("question", "past"),
    [
        ("What did I like before?", True),
        ("What was my favourite game last year?", True),
        ("Which games did I use to play?", True),
        ("Do I still live in Berlin or did I move? I previously lived there.", True),
        ("我以前喜欢什么游戏？", True),
        ("去年我最喜欢的游戏是什么？", True),
        ("前は何が好きだった？", True),
        ("¿Qué me gustaba antes?", True),
        ("Was mochte ich früher?", True),
        ("Qu'est-ce que j'aimais avant ?", True),
        ("What do I like?", False),
        ("What's my favourite game?", False),
        ("I stream at 8pm on Fridays.", False),
        ("我喜欢什么游戏？", False),
        ("Wie spät ist es?", False),
    ],
)
def test_questions_about_the_past_are_told_from_questions_about_now(question, past):
    assert query_asks_about_the_past(question) is past


def test_a_superseded_fact_is_not_revised_again_by_a_suggestion(user):
    old = memory_create(content="Viewer's favourite snack is melon bread.", subject_user=user)
    new = memory_approve(memory=update_of(old, "Viewer's favourite snack is taiyaki."))
    relation, target = memory_relation(
        content="Viewer's favourite snack is mochi.", subject=Subject(user_id=user.pk)
    )
    assert (relation, target) == ("update", new)


@pytest.mark.parametrize(
    "contradiction",
    [
        "Viewer最喜欢的游戏是泰拉瑞亚。",  # Chinese
        "Viewerの一番好きなゲームはテラリアです。",  # Japanese
        "El juego favorito de Viewer es Terraria.",  # Spanish
        "Viewers Lieblingsspiel ist Terraria.",  # German
    ],
)
def test_a_contradiction_in_another_language_is_an_update(user, contradiction):
    """The issue's own case: a Chinese contradiction of an English fact was filed as new."""
    minecraft = memory_create(content="Viewer's favourite game is Minecraft.", subject_user=user)
    assert memory_relation(content=contradiction, subject=Subject(user_id=user.pk)) == (
        "update",
        minecraft,
    )


def test_an_unrelated_fact_in_another_language_stays_new(user):
    memory_create(content="Viewer's favourite game is Minecraft.", subject_user=user)
    memory_create(content="Viewer lives in Berlin.", subject_user=user)
    assert memory_relation(content="Viewer养了一只狗叫Rex。", subject=Subject(user_id=user.pk)) == (
        "new",
        None,
    )


def test_a_chinese_contradiction_of_a_chinese_fact_is_an_update(user):
    shanghai = memory_create(content="凯住在上海。", subject_user=user)
    assert memory_relation(content="凯住在北京。", subject=Subject(user_id=user.pk)) == (
        "update",
        shanghai,
    )


def test_a_reworded_chinese_fact_is_a_duplicate(user):
    """rohitg00/agentmemory #1021: CJK dedupe split on spaces, so repeated Chinese
    preferences were all stored as new."""
    tofu = memory_create(content="凯养了一只猫，叫豆腐。", subject_user=user)
    assert memory_relation(content="凯有一只叫豆腐的猫。", subject=Subject(user_id=user.pk)) == (
        "duplicate",
        tofu,
    )


def test_a_negated_fact_is_never_a_duplicate(user):
    """rohitg00/agentmemory PR #1037: "do X" superseded "do not X" as a duplicate (the
    negation guard)."""
    habit = memory_create(
        content="Viewer likes to drink black coffee every morning before the stream starts.",
        subject_user=user,
    )
    relation, target = memory_relation(
        content="Viewer does not like to drink black coffee every morning before the stream starts.",
        subject=Subject(user_id=user.pk),
    )
    assert (relation, target) == ("update", habit)
    assert is_negated("Kai不喜欢咖啡。") and is_negated("Kai ne boit plus de café.")
    assert not is_negated("Kai likes coffee.")


def test_slots_name_the_attribute_a_fact_sets():
    assert fact_slots("Kai's favourite game is Minecraft.") == {"favourite:game"}
    assert fact_slots("Kai住在上海。") == {"home"}
    assert fact_slots("Kai wohnt in Berlin.") == {"home"}
    assert fact_slots("Kai is 23 years old.") == {"age"}
    assert fact_slots("Kai likes cats.") == set()


def test_undoing_the_approval_of_an_update_makes_the_old_fact_current_again(admin_client):
    old = memory_create(content="Kai lives in Berlin.")
    update = update_of(old, "Kai lives in Munich.")
    pending_version = Memory.history.filter(id=update.pk).order_by("history_id").first()
    memory_approve(memory=update)

    body = send(
        admin_client, "post", f"/{update.pk}/restore", {"version": pending_version.history_id}
    ).json()

    old.refresh_from_db()
    assert (body["status"], old.valid_until) == ("pending", None)
    assert Memory.history.filter(id=old.pk).order_by(
        "-history_id"
    ).first().history_change_reason == ("current again")
