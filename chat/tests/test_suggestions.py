import json
import logging

import pytest

from chat.models import Message, Role
from chat.services import Speaker, conversation_for_owner, conversation_reply
from chat.suggestions import memory_suggestions_from_reply, suggestions_parse
from luma.services import runtime_settings_update
from memories.models import Memory, MemorySource, MemoryStatus, SuggestionRun
from memories.services import memory_approve, memory_create, memory_reject

pytestmark = pytest.mark.django_db


def answer(*memories: dict) -> str:
    return json.dumps({"memories": list(memories)})


@pytest.fixture
def suggesting(use_deepseek):
    return runtime_settings_update(memory_suggestions_enabled=True, memory_suggestion_threshold=5)


def chat(user, openai_server, model_answer: str) -> Message:
    """One exchange whose reply is stored; the fake model answers `model_answer` to all."""
    openai_server.behaviour.reply = model_answer
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    return conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), text="I just got a cat named Tofu!"
    ).message


def suggestions() -> list[Memory]:
    return list(Memory.objects.filter(source=MemorySource.AI_SUGGESTED).order_by("pk"))


def test_a_reply_leads_to_pending_suggestions_about_the_speaker(suggesting, openai_server, user):
    chat(
        user,
        openai_server,
        answer(
            {"content": "Viewer has a cat named Tofu.", "importance": 7, "tags": ["Pets"]},
            {"content": "Cats are mammals.", "importance": 6, "about": "everyone"},
        ),
    )

    pets, general = suggestions()
    assert (pets.status, pets.subject_user, pets.importance, pets.tags) == (
        MemoryStatus.PENDING,
        user,
        7,
        ["pets"],
    )
    assert pets.subject_name == "viewer"
    assert general.is_global
    request = openai_server.requests[-1]["json"]
    assert request["response_format"] == {"type": "json_object"}
    assert "I just got a cat named Tofu!" in request["messages"][-1]["content"]


def test_nothing_is_asked_when_suggestions_are_off(use_deepseek, openai_server, user):
    chat(user, openai_server, answer({"content": "Viewer has a cat.", "importance": 9}))

    assert suggestions() == []
    assert len(openai_server.requests) == 1  # the reply only


def test_an_answer_that_cannot_be_understood_is_counted_with_its_text(
    suggesting, openai_server, user, caplog
):
    caplog.set_level(logging.WARNING, logger="chat.suggestions")

    reply = chat(user, openai_server, "Sure! Tofu is a lovely name for a cat.")

    assert reply.content == "Sure! Tofu is a lovely name for a cat."
    assert suggestions() == []
    run = SuggestionRun.objects.get()
    assert (run.reply_message_id, run.kept, run.dropped) == (reply.pk, 0, 1)
    assert run.answer == "Sure! Tofu is a lovely name for a cat."
    assert run.problems == ["the answer holds no suggestions in a known shape"]
    assert "Dropped 1 part(s)" in caplog.text


def test_a_failing_provider_leaves_the_reply_alone(suggesting, openai_server, user, caplog):
    reply = chat(user, openai_server, answer())
    openai_server.behaviour.status = 503

    assert memory_suggestions_from_reply(reply_message_id=reply.pk) == []
    assert Message.objects.filter(pk=reply.pk, role=Role.ASSISTANT).exists()


def test_suggestions_below_the_threshold_are_dropped(suggesting, openai_server, user):
    chat(
        user,
        openai_server,
        answer(
            {"content": "Viewer said hi.", "importance": 2},
            {"content": "Viewer has a cat named Tofu.", "importance": 5},
        ),
    )

    assert [memory.content for memory in suggestions()] == ["Viewer has a cat named Tofu."]


def test_a_fact_already_known_or_pending_is_not_suggested_again(suggesting, openai_server, user):
    memory_create(content="Viewer has a cat named Tofu.", subject_user=user)
    memory_create(
        content="Viewer likes green tea.", subject_user=user, source=MemorySource.AI_SUGGESTED
    )

    chat(
        user,
        openai_server,
        answer(
            {"content": "viewer has a cat named tofu", "importance": 7},
            {"content": "Viewer really likes green tea!", "importance": 7},
        ),
    )

    assert [memory.content for memory in suggestions()] == ["Viewer likes green tea."]


def test_a_variant_of_a_pending_suggestion_that_adds_something_is_proposed_too(
    suggesting, openai_server, user
):
    """Found trying Luma as a new user: "has a cat called Tama" was dropped as a
    duplicate of the pending "likes cats a lot" and reached no one."""
    memory_create(
        content="Kai likes cats a lot.", subject_user=user, source=MemorySource.AI_SUGGESTED
    )

    chat(
        user,
        openai_server,
        answer({"content": "Kai has a cat called Tama.", "importance": 7}),
    )

    assert sorted(memory.content for memory in suggestions()) == [
        "Kai has a cat called Tama.",
        "Kai likes cats a lot.",
    ]


def test_a_rejected_fact_is_not_proposed_again(suggesting, openai_server, user, admin_user):
    rejected = memory_create(
        content="Viewer has a cat named Tofu.", subject_user=user, source=MemorySource.AI_SUGGESTED
    )
    memory_reject(memory=rejected, reviewer=admin_user)

    chat(
        user,
        openai_server,
        answer({"content": "The viewer has a cat named Tofu.", "importance": 7}),
    )

    assert suggestions() == [rejected]


def test_a_near_variant_of_a_known_fact_is_proposed_as_an_update(suggesting, openai_server, user):
    original = memory_create(content="Viewer streams on Fridays at 9pm.", subject_user=user)

    chat(
        user,
        openai_server,
        answer({"content": "Viewer streams on Saturdays at 9pm.", "importance": 6}),
    )

    (update,) = suggestions()
    assert (update.updates, update.status) == (original, MemoryStatus.PENDING)


def test_the_model_may_name_the_known_fact_it_updates(suggesting, openai_server, user, other_user):
    original = memory_create(content="Viewer's favourite game is Osu!", subject_user=user)
    memory_create(content="Stranger likes Osu!", subject_user=other_user)
    new_fact = {"content": "Viewer's favourite game is now Beat Saber.", "importance": 6}

    chat(user, openai_server, answer({**new_fact, "updates": original.pk}))

    (update,) = suggestions()
    assert update.updates == original
    prompt = openai_server.requests[-1]["json"]["messages"][-1]["content"]
    assert f"id {original.pk}: Viewer's favourite game is Osu!" in prompt
    assert "Stranger" not in prompt


def test_an_update_naming_a_fact_it_was_not_shown_is_a_plain_suggestion(
    suggesting, openai_server, user, other_user
):
    private = memory_create(content="Stranger likes Osu!", subject_user=other_user)

    chat(
        user,
        openai_server,
        answer({"content": "Viewer likes Beat Saber.", "importance": 6, "updates": private.pk}),
    )

    (suggestion,) = suggestions()
    assert suggestion.updates is None


def test_the_same_fact_about_someone_else_is_not_a_duplicate(
    suggesting, openai_server, user, other_user
):
    memory_create(content="Viewer has a cat named Tofu.", subject_user=other_user)

    chat(user, openai_server, answer({"content": "Viewer has a cat named Tofu.", "importance": 7}))

    (suggestion,) = suggestions()
    assert suggestion.subject_user == user and suggestion.updates is None


# ---- reading what a model answers ------------------------------------------------------

TEA = "Kai likes tea."


def fact(content=TEA, importance=5, tags=(), about="speaker", updates=None) -> tuple:
    return (content, importance, list(tags), about, updates)


def one(**item) -> str:
    return json.dumps({"memories": [{"content": TEA, **item}]})


ABOUT = [
    *[(word, "speaker") for word in ["speaker", "user", "me", "viewer", "person", "Kai", "cat"]],
    *[(word, "everyone") for word in ["everyone", "all", "global", "general", "community"]],
    (" Everyone ", "everyone"),
    ("GLOBAL", "everyone"),
    (None, "speaker"),
    (3, "speaker"),
]
IMPORTANCE = [
    (7, 7),
    (7.5, 8),
    (7.4, 7),
    ("7", 7),
    (" 7 ", 7),
    ("7/10", 7),
    ("3/5", 6),
    ("7.0", 7),
    ("high", 8),
    ("very", 5),
    (11, 10),
    (0, 1),
    (-3, 1),
    ("12/10", 10),
    ("1/0", 5),
    (None, 5),
    (True, 5),
    ([7], 5),
]
TAGS = [
    (["Pets", " cats "], ["Pets", "cats"]),
    ("pets, cats ,, ", ["pets", "cats"]),
    ("#pets", ["pets"]),
    ([f"t{n}" for n in range(12)], [f"t{n}" for n in range(10)]),
    (["x" * 60], ["x" * 50]),
    ([1, None, {"a": 1}, "ok"], ["1", "ok"]),
    (None, []),
    (5, []),
]
UPDATES = [(12, 12), (12.0, 12), ("12", 12), ("id 12", 12), ("#12", 12), ("abc", None),
           (0, None), (True, None), (None, None)]  # fmt: skip


@pytest.mark.parametrize(("about", "expected"), ABOUT)
def test_about_synonyms_and_unknown_words_pick_who_a_fact_is_about(about, expected):
    parsed = suggestions_parse(one(about=about, importance=6))

    assert ([m.about for m in parsed.memories], parsed.dropped) == ([expected], [])


@pytest.mark.parametrize(("importance", "expected"), IMPORTANCE)
def test_importance_is_read_from_numbers_and_text_and_clamped(importance, expected):
    parsed = suggestions_parse(one(importance=importance))

    assert ([m.importance for m in parsed.memories], parsed.dropped) == ([expected], [])


def test_a_missing_importance_is_the_default():
    assert [m.importance for m in suggestions_parse(one()).memories] == [5]


@pytest.mark.parametrize(("tags", "expected"), TAGS)
def test_tags_come_as_a_list_or_a_comma_string(tags, expected):
    parsed = suggestions_parse(one(tags=tags))

    assert ([m.tags for m in parsed.memories], parsed.dropped) == ([expected], [])


@pytest.mark.parametrize(("updates", "expected"), UPDATES)
def test_updates_is_an_id_as_a_number_or_text(updates, expected):
    assert [m.updates for m in suggestions_parse(one(updates=updates)).memories] == [expected]


BATCH = '{"memories": [{"content": "Kai likes tea.", "importance": 6}]}'
SHAPES = [
    ("strict", BATCH, [fact(importance=6)], 0),
    ("fenced", f"```json\n{BATCH}\n```", [fact(importance=6)], 0),
    ("fence without a language", f"```\n{BATCH}\n```", [fact(importance=6)], 0),
    ("prose around", f"Here you go:\n{BATCH}\nHope that helps!", [fact(importance=6)], 0),
    ("prose with brackets", f"Facts [as asked]:\n```json\n{BATCH}\n```", [fact(importance=6)], 0),
    ("think prefix", f"<think>The user said {{tea}}...</think>\n{BATCH}", [fact(importance=6)], 0),
    ("think closed only", f"they like [tea] so</think>{BATCH}", [fact(importance=6)], 0),
    ("bare list", '[{"content": "Kai likes tea.", "importance": 6}]', [fact(importance=6)], 0),
    ("single object", '{"content": "Kai likes tea.", "importance": 6}', [fact(importance=6)], 0),
    ("bare strings", '{"memories": ["Kai likes tea.", "Mina sings."]}',
     [fact(), fact("Mina sings.")], 0),
    ("facts key", '{"facts": [{"fact": "Kai likes tea."}]}', [fact()], 0),
    ("fact key", '{"memories": [{"fact": "Kai likes tea."}]}', [fact()], 0),
    ("memory key", '{"memories": [{"memory": "Kai likes tea."}]}', [fact()], 0),
    ("text key", '[{"text": "Kai likes tea."}]', [fact()], 0),
    ("one object under memories", '{"memories": {"content": "Kai likes tea."}}', [fact()], 0),
    ("extra keys", '{"memories": [{"content": "Kai likes tea.", "why": "said so", "x": 1}],'
     ' "note": "ok"}', [fact()], 0),
    ("everything at once", '{"memories": [{"content": "Kai likes tea.", "importance": "7/10",'
     ' "tags": "drinks, tea", "about": "user", "updates": "4"}]}',
     [fact(importance=7, tags=["drinks", "tea"], updates=4)], 0),
    ("nothing", '{"memories": []}', [], 0),
    ("nothing, bare", "[]", [], 0),
    ("nothing, empty object", "{}", [], 0),
    ("memories null", '{"memories": null}', [], 0),
    ("no content", '{"memories": [{"importance": 7}, {"content": "Kai likes tea."}]}',
     [fact()], 1),
    ("empty content", '{"memories": [{"content": "  "}, "Kai likes tea."]}', [fact()], 1),
    ("content not text", '{"memories": [{"content": 42}, 7, null, "Kai likes tea."]}',
     [fact()], 3),
    ("content too long", json.dumps({"memories": ["x" * 501, TEA]}), [fact()], 1),
    ("past the 20th", json.dumps([f"Fact number {n}." for n in range(22)]),
     [fact(f"Fact number {n}.") for n in range(20)], 2),
    ("prose only", "Sure! Tofu is a lovely name for a cat.", [], 1),
    ("unknown object", '{"answer": "nothing to remember"}', [], 1),
    ("a number", "42", [], 1),
    ("only reasoning", "<think>Maybe {\"memories\": []}", [], 1),
    ("trailing commas", '{"memories": [{"content": "Mina sings.",}, "Kai likes tea.",],}',
     [fact("Mina sings."), fact()], 0),
    ("unquoted keys", '{"memories": [{content: "Mina sings."}]} {"content": "Kai likes tea."}',
     [fact("Mina sings.")], 0),
    ("broken beyond repair", '{[}] {"content": "Kai likes tea."}', [], 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected", "dropped"), [case[1:] for case in SHAPES], ids=[c[0] for c in SHAPES]
)
def test_every_usable_fact_is_read_and_only_the_rest_is_dropped(text, expected, dropped):
    parsed = suggestions_parse(text)

    assert [(m.content, m.importance, m.tags, m.about, m.updates) for m in parsed.memories] == (
        expected
    )
    assert len(parsed.dropped) == dropped


def test_a_dropped_item_says_where_and_why():
    parsed = suggestions_parse('[{"importance": 7}, "ok fact", {"content": 42}]')

    assert [m.content for m in parsed.memories] == ["ok fact"]
    assert parsed.dropped[0].startswith("item 1: content")
    assert parsed.dropped[1].startswith("item 3: content")


# ---- through a reply, with the fake server answering --------------------------------------


def test_an_about_user_answer_keeps_the_whole_batch(suggesting, openai_server, user):
    """The field case: a small model wrote "user" where the prompt says "speaker"."""
    chat(
        user,
        openai_server,
        answer(
            {"content": "Viewer has a cat named Tofu.", "importance": 7, "about": "user"},
            {"content": "Cats sleep a lot.", "importance": 6, "about": "global"},
            {"content": "Viewer is learning Rust.", "importance": "8", "about": "viewer"},
        ),
    )

    assert [(m.content, m.subject_user, m.importance) for m in suggestions()] == [
        ("Viewer has a cat named Tofu.", user, 7),
        ("Cats sleep a lot.", None, 6),
        ("Viewer is learning Rust.", user, 8),
    ]
    run = SuggestionRun.objects.get()
    assert (run.kept, run.dropped, run.answer) == (3, 0, "")


FLOW = [
    ("fenced, with prose", 'Here:\n```json\n{"memories": [{"content": "Viewer has a cat named '
     'Tofu.", "importance": "7/10", "tags": "pets, cats"}]}\n```', (7, ["pets", "cats"])),
    ("bare list", '[{"fact": "Viewer has a cat named Tofu.", "importance": 7.6}]', (8, [])),
    ("single object", '{"memory": "Viewer has a cat named Tofu.", "tags": ["Pets"]}', (5, ["pets"])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model_answer", "expected"), [c[1:] for c in FLOW], ids=[c[0] for c in FLOW]
)
def test_a_loosely_shaped_answer_becomes_suggestions(
    suggesting, openai_server, user, model_answer, expected
):
    chat(user, openai_server, model_answer)

    assert [(m.content, m.subject_user, (m.importance, m.tags)) for m in suggestions()] == [
        ("Viewer has a cat named Tofu.", user, expected)
    ]


def test_a_reasoning_models_answer_is_read_after_its_thinking(suggesting, openai_server, user):
    reply = chat(user, openai_server, answer())
    openai_server.behaviour.reply = (
        '<think>They said {"cat": "Tofu"}, so</think>{"memories": ["Viewer has a cat named Tofu."]}'
    )

    (suggestion,) = memory_suggestions_from_reply(reply_message_id=reply.pk)

    assert (suggestion.content, suggestion.subject_user) == ("Viewer has a cat named Tofu.", user)


def test_what_is_dropped_is_counted_and_the_rest_kept(suggesting, openai_server, user):
    text = answer({"importance": 7}, {"content": "Viewer has a cat named Tofu.", "importance": 7})

    reply = chat(user, openai_server, text)

    assert [m.content for m in suggestions()] == ["Viewer has a cat named Tofu."]
    run = SuggestionRun.objects.get()
    assert (run.reply_message_id, run.kept, run.dropped, run.skipped) == (reply.pk, 1, 1, 0)
    assert run.problems == ["item 1: content: Field required"]
    assert run.answer == text


def test_below_threshold_and_known_facts_are_counted_as_skipped(suggesting, openai_server, user):
    memory_create(content="Viewer has a cat named Tofu.", subject_user=user)

    chat(
        user,
        openai_server,
        answer(
            {"content": "Viewer said hi.", "importance": 2},
            {"content": "Viewer has a cat named Tofu.", "importance": 7},
        ),
    )

    run = SuggestionRun.objects.get()
    assert (run.kept, run.skipped, run.decided, run.dropped) == (0, 2, 0, 0)


# ---- decided facts are not proposed again ------------------------------------------------

ORIGINAL = "Viewer has a cat named Tofu."
REWORDED = [
    ORIGINAL,
    "viewer has a cat named tofu",
    "  Viewer has a cat,  named Tofu!! ",
    "Viewer has a cat named \uff34\uff4f\uff46\uff55.",  # full-width letters (NFKC)
]


@pytest.mark.parametrize("wording", REWORDED)
def test_a_fact_approved_after_editing_is_not_proposed_again_in_its_first_words(
    suggesting, openai_server, user, admin_user, wording
):
    pending = memory_create(content=ORIGINAL, subject_user=user, source=MemorySource.AI_SUGGESTED)
    approved = memory_approve(
        memory=pending, reviewer=admin_user, content="Viewer's ginger cat is called Tofu."
    )

    chat(user, openai_server, answer({"content": wording, "importance": 7}))

    assert suggestions() == [approved]
    assert approved.suggested_content == ORIGINAL
    run = SuggestionRun.objects.get()
    assert (run.kept, run.decided, run.skipped) == (0, 1, 0)


@pytest.mark.parametrize("wording", REWORDED)
def test_a_rejected_fact_counts_as_already_decided(
    suggesting, openai_server, user, admin_user, wording
):
    rejected = memory_create(content=ORIGINAL, subject_user=user, source=MemorySource.AI_SUGGESTED)
    memory_reject(memory=rejected, reviewer=admin_user)

    chat(user, openai_server, answer({"content": wording, "importance": 7}))

    assert suggestions() == [rejected]
    assert SuggestionRun.objects.get().decided == 1


def test_a_fact_decided_about_someone_else_is_still_proposed(
    suggesting, openai_server, user, other_user, admin_user
):
    theirs = memory_create(
        content=ORIGINAL, subject_user=other_user, source=MemorySource.AI_SUGGESTED
    )
    memory_reject(memory=theirs, reviewer=admin_user)

    chat(user, openai_server, answer({"content": ORIGINAL, "importance": 7}))

    mine = [m for m in suggestions() if m.subject_user == user]
    assert [(m.content, m.status) for m in mine] == [(ORIGINAL, MemoryStatus.PENDING)]
