"""Twitch viewers have memories of their own, and their suggestions wait for review."""

import json

import pytest

from luma.services import runtime_settings_update
from memories.models import Memory, MemorySource, MemoryStatus
from memories.subjects import InvalidSubject, subject_of, subject_parse
from twitchbot.services import twitch_reply_events

pytestmark = pytest.mark.django_db


def test_a_twitch_exchange_suggests_memories_about_the_viewer_for_review(
    use_deepseek, openai_server
):
    runtime_settings_update(memory_suggestions_enabled=True, memory_suggestion_threshold=5)
    openai_server.behaviour.reply = json.dumps(
        {"memories": [{"content": "Alice has a cat named Tofu.", "importance": 7}]}
    )
    for _ in twitch_reply_events(
        channel="streamer", user_id="1001", display_name="Alice",
        text="I just got a cat named Tofu!", abandoned=lambda: False,
    ):  # fmt: skip
        pass
    suggestion = Memory.objects.get(source=MemorySource.AI_SUGGESTED)
    assert suggestion.status == MemoryStatus.PENDING
    assert (suggestion.subject_discord_id, suggestion.subject_name) == ("twitch:1001", "Alice")
    assert subject_of(suggestion).notation == "twitch:1001"


def test_the_twitch_subject_is_written_and_read_back():
    subject = subject_parse("twitch:1001")
    assert subject.notation == "twitch:1001"
    assert subject_parse("discord:1001").notation == "discord:1001"
    assert subject_parse("discord:1001") != subject  # a Discord id is never a Twitch one
    with pytest.raises(InvalidSubject):
        subject_parse("twitch:alice")


def test_a_twitch_memory_without_a_name_says_whose_it_is():
    memory = Memory(content="x", subject_discord_id="twitch:1001")
    assert memory.subject_label == "Twitch user 1001"
    assert Memory(content="x", subject_discord_id="55").subject_label == "Discord user 55"
