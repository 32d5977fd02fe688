"""The official `openai` client (sync and async) against a live Luma."""

import asyncio

import openai
import pytest
from django.contrib.auth.models import User

from chat.models import Channel, Conversation, Message, ReplyStatus, Role
from luma.services import runtime_settings_update
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create
from openai_api.tests.conftest import LiveLuma

HELLO = [{"role": "user", "content": "Hello Luma!"}]


def test_a_plain_completion_comes_back_in_openai_shape(live: LiveLuma, viewer_token):
    live.provider.behaviour.reply = "Hi there, friend."
    answer = live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO)
    assert answer.object == "chat.completion"
    assert answer.id.startswith("chatcmpl-")
    assert answer.model == "luma"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == "Hi there, friend."
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens == 11  # the provider's own count
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_a_streamed_completion_arrives_in_chunks_and_ends_with_done(live: LiveLuma, viewer_token):
    live.provider.behaviour.reply = "One two three four five."
    stream = live.client(viewer_token).chat.completions.create(
        model="luma", messages=HELLO, stream=True
    )
    chunks = list(stream)  # the client stops at `data: [DONE]`
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three four five."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({chunk.id for chunk in chunks}) == 1
    assert all(chunk.usage is None for chunk in chunks)  # not asked for


def test_include_usage_adds_a_last_chunk_with_usage_and_no_choices(live: LiveLuma, viewer_token):
    stream = live.client(viewer_token).chat.completions.create(
        model="luma", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == 11
    assert chunks[-1].usage.total_tokens > 11
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_the_async_client_streams_too(live: LiveLuma, viewer_token):
    live.provider.behaviour.reply = "Async hello back."

    async def run() -> tuple[str, str]:
        client = live.async_client(viewer_token)
        whole = await client.chat.completions.create(model="luma", messages=HELLO)
        stream = await client.chat.completions.create(model="luma", messages=HELLO, stream=True)
        parts = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
        await client.close()
        return whole.choices[0].message.content, "".join(parts)

    whole, streamed = asyncio.run(run())
    assert whole == streamed == "Async hello back."


def test_a_stop_sequence_cuts_the_reply_even_split_across_chunks(live: LiveLuma, viewer_token):
    live.provider.behaviour.reply = "Roses are red. END Violets are blue."
    client = live.client(viewer_token)
    whole = client.chat.completions.create(model="luma", messages=HELLO, stop=["D Vio"])
    assert whole.choices[0].message.content == "Roses are red. EN"
    assert whole.choices[0].finish_reason == "stop"
    stream = client.chat.completions.create(model="luma", messages=HELLO, stop="red.", stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Roses are "


def test_temperature_and_max_tokens_reach_the_provider_within_the_owners_limit(
    live: LiveLuma, viewer_token
):
    runtime_settings_update(max_tokens=300)
    client = live.client(viewer_token)
    client.chat.completions.create(model="luma", messages=HELLO, temperature=0.2, max_tokens=50)
    client.chat.completions.create(model="luma", messages=HELLO, max_completion_tokens=5000)
    sent = [r["json"] for r in live.provider.requests if r["path"] == "/v1/chat/completions"]
    assert (sent[0]["temperature"], sent[0]["max_tokens"]) == (0.2, 50)
    assert sent[1]["max_tokens"] == 300  # the owner's Max tokens is the ceiling
    assert sent[0]["model"] == "fake-chat"  # the provider's model, whatever the client names


def test_a_reply_cut_by_max_tokens_finishes_with_length(live: LiveLuma, viewer_token):
    live.provider.behaviour.finish_reason = "length"
    answer = live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO)
    assert answer.choices[0].finish_reason == "length"


def test_the_exchange_is_stored_in_the_speakers_openai_conversation_with_usage(
    live: LiveLuma, viewer_token, user: User
):
    live.provider.behaviour.reply = "Nice to meet you."
    client = live.client(viewer_token)
    client.chat.completions.create(model="luma", messages=HELLO, user="alice")
    history = [*HELLO, {"role": "assistant", "content": "Nice to meet you."}]
    client.chat.completions.create(
        model="luma", messages=[*history, {"role": "user", "content": "Again!"}], user="alice"
    )
    conversation = Conversation.objects.get(owner=user, channel=Channel.OPENAI)
    messages = list(conversation.messages.answer_order())
    assert [(m.role, m.content) for m in messages] == [
        (Role.USER, "Hello Luma!"),
        (Role.ASSISTANT, "Nice to meet you."),
        (Role.USER, "Again!"),
        (Role.ASSISTANT, "Nice to meet you."),
    ]
    reply = messages[-1]
    assert (reply.channel, reply.provider, reply.model) == ("openai", "deepseek", "fake-chat")
    assert reply.prompt_tokens == 11 and reply.status == ReplyStatus.COMPLETE
    assert messages[0].author_name == "alice"
    assert messages[0].author_user.username == f"app:{user.pk}:alice"


def test_memories_of_the_speaker_reach_the_prompt_and_another_speakers_do_not(
    live: LiveLuma, viewer_token, user: User
):
    client = live.client(viewer_token)
    client.chat.completions.create(model="luma", messages=HELLO, user="alice")
    client.chat.completions.create(model="luma", messages=HELLO, user="bob")
    alice = User.objects.get(username=f"app:{user.pk}:alice")
    bob = User.objects.get(username=f"app:{user.pk}:bob")
    memory_create(content="Alice keeps a hamster called Biscuit", subject_user=alice)
    memory_create(content="Bob is afraid of spiders", subject_user=bob)
    memory_create(content="The stream starts at eight", subject_user=None)
    live.provider.requests.clear()
    question = [{"role": "user", "content": "What pet do I have?"}]
    client.chat.completions.create(model="luma", messages=question, user="alice")
    system = live.prompts()[-1][0]["content"]
    assert "Biscuit" in system
    assert "The stream starts at eight" in system
    assert "spiders" not in system
    reply = Message.objects.filter(role=Role.ASSISTANT, author_user=None).last()
    assert {m.content for m in reply.memories_used.all()} >= {
        "Alice keeps a hamster called Biscuit"
    }


def test_another_accounts_speaker_of_the_same_name_gets_none_of_those_memories(
    live: LiveLuma, viewer_token, other_user: User, user: User
):
    from openai_api.tests.conftest import token_for

    live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO, user="alice")
    alice = User.objects.get(username=f"app:{user.pk}:alice")
    memory_create(content="Alice keeps a hamster called Biscuit", subject_user=alice)
    live.provider.requests.clear()
    live.client(token_for(other_user)).chat.completions.create(
        model="luma", messages=[{"role": "user", "content": "my hamster?"}], user="alice"
    )
    assert "Biscuit" not in live.prompts()[-1][0]["content"]


def test_without_a_user_the_speaker_is_the_tokens_account(live: LiveLuma, viewer_token, user):
    memory_create(content="The viewer account loves lighthouses", subject_user=user)
    live.client(viewer_token).chat.completions.create(
        model="luma", messages=[{"role": "user", "content": "lighthouses?"}]
    )
    assert "lighthouses" in live.prompts()[-1][0]["content"]
    assert Message.objects.get(role=Role.USER).author_user == user


def test_memory_suggestions_are_queued_about_the_apps_speaker(
    live: LiveLuma, viewer_token, user: User
):
    runtime_settings_update(memory_suggestions_enabled=True)
    live.provider.behaviour.reply = (
        '{"memories": [{"content": "Alice plays the cello", "importance": 8, "about": "speaker"}]}'
    )
    live.client(viewer_token).chat.completions.create(
        model="luma",
        messages=[{"role": "user", "content": "I play the cello every day"}],
        user="alice",
    )
    suggestion = Memory.objects.get(source=MemorySource.AI_SUGGESTED)
    assert suggestion.status == MemoryStatus.PENDING
    assert suggestion.subject_user.username == f"app:{user.pk}:alice"
    assert suggestion.subject_name == "alice"


def test_a_provider_5xx_is_a_502_in_openais_shape(live: LiveLuma, viewer_token):
    live.provider.behaviour.status = 500
    with pytest.raises(openai.InternalServerError) as raised:
        live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO)
    assert raised.value.status_code == 502
    error = raised.value.body
    assert error["type"] == "server_error" and error["code"] == "provider_error"
    # A viewer is told what a viewer can do, not to fix the owner's settings.
    assert "tell the owner" in error["message"]
    assert Message.objects.filter(role=Role.USER).count() == 1  # kept, unanswered


def test_a_provider_failure_streamed_is_a_status_before_any_event(live: LiveLuma, viewer_token):
    live.provider.behaviour.status = 503
    with pytest.raises(openai.InternalServerError) as raised:
        list(
            live.client(viewer_token).chat.completions.create(
                model="luma", messages=HELLO, stream=True
            )
        )
    assert raised.value.status_code == 502


def test_a_provider_timeout_is_a_504(live: LiveLuma, viewer_token, settings):
    settings.LUMA_PROVIDER_TIMEOUT = 0.5
    live.provider.behaviour.first_byte_delay = 3
    with pytest.raises(openai.APIStatusError) as raised:
        live.client(viewer_token).chat.completions.create(model="luma", messages=HELLO)
    assert raised.value.status_code == 504
    assert raised.value.body["code"] == "provider_timeout"


def test_the_owner_reads_the_providers_own_words(live: LiveLuma, admin_user):
    from openai_api.tests.conftest import token_for

    live.provider.behaviour.status = 500
    with pytest.raises(openai.InternalServerError) as raised:
        live.client(token_for(admin_user)).chat.completions.create(model="luma", messages=HELLO)
    assert "OpenAI-compatible server at" in raised.value.body["message"]


def test_reasoning_never_reaches_the_client_and_is_kept_apart(live: LiveLuma, viewer_token):
    live.provider.behaviour.reasoning = "Let me think about greetings."
    live.provider.behaviour.reply = "Hello!"
    client = live.client(viewer_token)
    whole = client.chat.completions.create(model="luma", messages=HELLO)
    stream = client.chat.completions.create(model="luma", messages=HELLO, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert whole.choices[0].message.content == streamed == "Hello!"
    reply = Message.objects.filter(role=Role.ASSISTANT).first()
    assert reply.reasoning == "Let me think about greetings."


def test_other_apps_are_an_auto_approval_source_of_their_own(live: LiveLuma, viewer_token):
    runtime_settings_update(
        memory_suggestions_enabled=True,
        auto_approve_enabled=True,
        auto_approve_sources=["openai"],
        auto_approve_min_importance=5,
        auto_approve_min_confidence=0.5,
    )
    live.provider.behaviour.reply = (
        '{"memories": [{"content": "Alice plays the cello", "importance": 8, '
        '"about": "speaker", "confidence": 0.95}]}'
    )
    live.client(viewer_token).chat.completions.create(
        model="luma", messages=[{"role": "user", "content": "I play the cello"}], user="alice"
    )
    memory = Memory.objects.get(source=MemorySource.AI_SUGGESTED)
    assert memory.status == MemoryStatus.APPROVED and memory.auto_approved_at is not None


def test_every_channel_is_an_auto_approval_source():
    from luma.models import AutoApprovalSource

    assert set(Channel.values) == set(AutoApprovalSource.values)
