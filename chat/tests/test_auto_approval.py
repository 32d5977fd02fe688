"""Auto-approval on arrival, from the chat's suggestions: the owner's sources and bars,
the model's confidence read leniently, and what always waits for a person
(`memories.review.auto_approval_applies`). The rest of review at volume is tested in
memories/tests/test_review.py."""

import json

import pytest

from chat.models import Channel
from chat.services import (
    Speaker,
    conversation_for_discord_channel,
    conversation_for_owner,
    conversation_reply,
)
from chat.suggestions import suggestions_parse
from luma.services import runtime_settings_update
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create

pytestmark = pytest.mark.django_db


def reasons(memory: Memory) -> list[str]:
    return list(
        Memory.history.filter(id=memory.pk)
        .order_by("history_id")
        .values_list("history_change_reason", flat=True)
    )


def answer(*memories: dict) -> str:
    return json.dumps({"memories": list(memories)})


@pytest.fixture
def auto_approving(use_deepseek):
    return runtime_settings_update(
        memory_suggestions_enabled=True,
        memory_suggestion_threshold=5,
        auto_approve_enabled=True,
        auto_approve_sources=["web"],
        auto_approve_min_importance=7,
        auto_approve_min_confidence=0.8,
    )


def web_chat(user, openai_server, model_answer: str) -> None:
    openai_server.behaviour.reply = model_answer
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="Hi!")


def discord_chat(openai_server, model_answer: str) -> None:
    openai_server.behaviour.reply = model_answer
    conversation = conversation_for_discord_channel(channel_id="42")
    speaker = Speaker(discord_id="777", name="kai", channel=Channel.DISCORD)
    conversation_reply(conversation=conversation, speaker=speaker, text="Hi!")


def by_content(content: str) -> Memory:
    return Memory.objects.get(content=content, source=MemorySource.AI_SUGGESTED)


def test_a_sure_important_suggestion_from_a_chosen_source_is_approved_on_arrival(
    auto_approving, openai_server, user
):
    web_chat(
        user,
        openai_server,
        answer(
            {"content": "Viewer's cat is called Tofu.", "importance": 8, "confidence": 0.95},
            {"content": "Viewer likes oolong tea.", "importance": 6, "confidence": 0.99},
            {"content": "Viewer might move to Osaka.", "importance": 9, "confidence": "50%"},
            {"content": "Viewer's birthday is in May.", "importance": 9},
        ),
    )

    tofu = by_content("Viewer's cat is called Tofu.")
    assert (tofu.status, tofu.confidence) == (MemoryStatus.APPROVED, 0.95)
    assert tofu.auto_approved and tofu.reviewed_by is None
    assert reasons(tofu) == ["suggested", "auto-approved"]
    assert Memory.history.filter(id=tofu.pk).first().surface == "ai"
    for below in ("Viewer likes oolong tea.", "Viewer might move to Osaka."):
        assert by_content(below).status == MemoryStatus.PENDING
    birthday = by_content("Viewer's birthday is in May.")
    assert (birthday.status, birthday.confidence) == (MemoryStatus.PENDING, None)


def test_auto_approval_is_off_by_default(use_deepseek, openai_server, user):
    runtime_settings_update(memory_suggestions_enabled=True)

    web_chat(
        user,
        openai_server,
        answer({"content": "Viewer owns a drum kit.", "importance": 10, "confidence": 1}),
    )

    assert by_content("Viewer owns a drum kit.").status == MemoryStatus.PENDING


def test_auto_approval_applies_only_to_the_chosen_sources(auto_approving, openai_server):
    discord_chat(
        openai_server,
        answer({"content": "Kai owns a drum kit.", "importance": 9, "confidence": 0.9}),
    )
    assert by_content("Kai owns a drum kit.").status == MemoryStatus.PENDING

    runtime_settings_update(auto_approve_sources=["web", "discord"])
    discord_chat(
        openai_server,
        answer({"content": "Kai plays bass too.", "importance": 9, "confidence": 0.9}),
    )
    assert by_content("Kai plays bass too.").auto_approved


def test_chats_through_the_api_are_a_source_of_their_own(
    auto_approving, openai_server, user_client
):
    """Found trying Luma as a new user: facts from `POST /api/chat` (channel "api")
    could never be auto-approved, as the settings offered only web and Discord."""

    def api_chat(content: str) -> Memory:
        openai_server.behaviour.reply = answer(
            {"content": content, "importance": 9, "confidence": 0.9}
        )
        response = user_client.post("/api/chat", {"message": "Hi!"}, "application/json")
        assert response.status_code == 200, response.content
        return by_content(content)

    assert api_chat("Viewer speedruns Celeste.").status == MemoryStatus.PENDING
    response = user_client.get("/api/settings")
    assert response.status_code == 403  # the owner's, not a viewer's
    runtime_settings_update(auto_approve_sources=["web", "api"])
    assert api_chat("Viewer collects vinyl records.").auto_approved


def test_an_update_to_a_known_fact_always_waits_for_a_person(auto_approving, openai_server, user):
    known = memory_create(content="Viewer streams on Fridays.", subject_user=user)

    web_chat(
        user,
        openai_server,
        answer(
            {
                "content": "Viewer streams on Mondays now.",
                "importance": 9,
                "confidence": 1,
                "updates": known.pk,
            }
        ),
    )

    assert by_content("Viewer streams on Mondays now.").status == MemoryStatus.PENDING


@pytest.mark.parametrize(
    "confidence, expected",
    [
        (0.85, 0.85),
        ("0.85", 0.85),
        ("85%", 0.85),
        (85, 0.85),
        ("8.5/10", 0.85),
        ("high", 0.8),
        (1, 1.0),
        (0, 0.0),
        (None, None),
        ("very", None),
        (True, None),
        (-0.2, None),
        (250, None),
        ("NaN", None),
        ([0.9], None),
    ],
)
def test_confidence_is_read_leniently_and_a_missing_one_is_none(confidence, expected):
    parsed = suggestions_parse(answer({"content": "Kai plays chess.", "confidence": confidence}))

    found = parsed.memories[0].confidence
    assert found is None if expected is None else found == pytest.approx(expected)


def test_a_fact_about_everyone_from_a_viewers_chat_waits_for_a_person(
    auto_approving, openai_server, user
):
    """FoxRick/Collie#62: approval-free memory writes let a conversation plant durable
    facts. Auto-approval never approves a fact about everyone: one viewer's chat must not
    change what the persona tells the whole community."""
    web_chat(
        user,
        openai_server,
        answer(
            {
                "content": "Streams are cancelled forever.",
                "about": "everyone",
                "importance": 10,
                "confidence": 1,
            }
        ),
    )

    assert by_content("Streams are cancelled forever.").status == MemoryStatus.PENDING


def test_an_auto_approved_fact_never_overwrites_a_known_one(auto_approving, openai_server, user):
    """esengine/DeepSeek-Reasonix#5753: in auto mode, memory writes could overwrite
    long-term facts without a person. An update suggestion always waits for one, however
    sure the model is."""
    known = memory_create(content="Viewer's main game is Hades.", subject_user=user)

    web_chat(
        user,
        openai_server,
        answer(
            {
                "content": "Viewer's main game is Celeste now.",
                "importance": 10,
                "confidence": 1,
                "updates": known.pk,
            }
        ),
    )

    assert by_content("Viewer's main game is Celeste now.").status == MemoryStatus.PENDING
    assert Memory.objects.get(pk=known.pk).valid_until is None
