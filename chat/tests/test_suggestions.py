import json
import logging

import pytest

from chat.models import Message, Role
from chat.services import Speaker, conversation_for_owner, conversation_reply
from chat.suggestions import MalformedSuggestions, suggestions_parse
from luma.services import runtime_settings_update
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create, memory_reject

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


def test_malformed_model_output_is_logged_and_skipped(suggesting, openai_server, user, caplog):
    caplog.set_level(logging.WARNING, logger="chat.suggestions")

    reply = chat(user, openai_server, "Sure! Tofu is a lovely name for a cat.")

    assert reply.content == "Sure! Tofu is a lovely name for a cat."
    assert suggestions() == []
    assert "malformed memory suggestions" in caplog.text


def test_a_failing_provider_leaves_the_reply_alone(suggesting, openai_server, user, caplog):
    reply = chat(user, openai_server, answer())
    openai_server.behaviour.status = 503
    from chat.suggestions import memory_suggestions_from_reply

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


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "[]",
        '{"facts": []}',
        '{"memories": [{"content": "x is y", "importance": "7"}]}',
        '{"memories": [{"content": "Viewer has a cat.", "importance": 11}]}',
        '{"memories": [{"content": "Viewer has a cat.", "importance": 7, "about": "Kai"}]}',
        '{"memories": [{"content": "Viewer has a cat.", "importance": 7, "extra": 1}]}',
        '{"memories": [{"content": "", "importance": 7}]}',
        '{"memories": [{"content": "Viewer has a cat.", "importance": 7, "tags": "pets"}]}',
    ],
)
def test_output_outside_the_strict_shape_is_malformed(text):
    with pytest.raises(MalformedSuggestions):
        suggestions_parse(text)


def test_a_json_answer_in_a_code_fence_is_accepted():
    parsed = suggestions_parse(
        '```json\n{"memories": [{"content": "Kai likes tea.", "importance": 6}]}\n```'
    )

    assert [(m.content, m.importance, m.tags, m.about) for m in parsed] == [
        ("Kai likes tea.", 6, [], "speaker")
    ]
