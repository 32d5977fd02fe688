import pytest

from chat.models import Channel, Conversation, Message, Role
from chat.services import (
    InvalidMessage,
    ReplyStored,
    Speaker,
    UserMessageStored,
    conversation_for_owner,
    conversation_reply,
    conversation_reply_stream,
)
from luma.services import runtime_settings_update
from memories.services import memory_create
from providers.errors import ProviderAuthError, ProviderError, ProviderUnavailable
from providers.testing.fakes import free_port


@pytest.fixture
def conversation(user) -> Conversation:
    return conversation_for_owner(owner=user, conversation_id=None)


def test_a_reply_streams_and_both_messages_are_stored(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour.reply = "Hey viewer, welcome to the stream!"
    events = list(
        conversation_reply_stream(
            conversation=conversation, speaker=Speaker(user=user), text="hello Luma"
        )
    )

    assert isinstance(events[0], UserMessageStored)
    assert "".join(e for e in events if isinstance(e, str)) == "Hey viewer, welcome to the stream!"
    done = events[-1]
    assert isinstance(done, ReplyStored)
    stored = list(conversation.messages.values_list("role", "content"))
    assert stored == [
        (Role.USER, "hello Luma"),
        (Role.ASSISTANT, "Hey viewer, welcome to the stream!"),
    ]
    reply = done.message
    assert (reply.provider, reply.model) == ("deepseek", "fake-chat")
    assert reply.prompt_tokens == 11
    assert reply.completion_tokens > 0
    assert reply.usage_estimated is False


def test_the_prompt_holds_persona_memories_and_history(
    use_deepseek, openai_server, conversation, user, other_user
):
    memory_create(content="Viewer's cat is called Mochi.", subject_user=user)
    memory_create(content="Stranger's password hint is fish.", subject_user=other_user)
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="first")
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="second")

    sent = openai_server.requests[-1]["json"]["messages"]
    assert sent[0]["role"] == "system"
    assert "You are Luma" in sent[0]["content"]
    assert "Mochi" in sent[0]["content"]
    assert "fish" not in sent[0]["content"]
    assert [m["content"] for m in sent[1:]] == ["first", openai_server.behaviour.reply, "second"]
    assert [m.content for m in done.message.memories_used.all()] == [
        "Viewer's cat is called Mochi."
    ]
    assert done.message.memories_used.get().use_count == 2


def test_ollama_replies_record_the_servers_usage(use_ollama, ollama_server, conversation, user):
    ollama_server.behaviour.completion_tokens = 7
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")
    assert (done.message.provider, done.message.prompt_tokens, done.message.completion_tokens) == (
        "ollama",
        11,
        7,
    )


def test_usage_is_estimated_and_marked_when_the_provider_reports_none(
    use_ollama, ollama_server, conversation, user
):
    ollama_server.behaviour.omit_usage = True
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")
    assert done.message.usage_estimated is True
    assert done.message.completion_tokens > 0


def test_the_users_message_is_kept_when_the_provider_is_down(db, conversation, user):
    runtime_settings_update(provider="ollama", ollama_endpoint=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderUnavailable) as raised:
        conversation_reply(
            conversation=conversation, speaker=Speaker(user=user), text="are you there?"
        )

    assert list(conversation.messages.values_list("role", "content")) == [
        (Role.USER, "are you there?")
    ]
    assert raised.value.context["conversation_id"] == conversation.pk


def test_the_users_message_is_kept_when_the_key_is_refused(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour.status = 401
    with pytest.raises(ProviderAuthError):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hello?")
    assert conversation.messages.get().content == "hello?"


def test_stopping_keeps_what_was_streamed(use_deepseek, openai_server, conversation, user):
    openai_server.behaviour.reply = "one two three four five six"
    seen: list[str] = []
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=Speaker(user=user),
        text="count",
        should_stop=lambda: len(seen) >= 2,
    )
    for event in events:
        if isinstance(event, str):
            seen.append(event)
        last = event
    assert isinstance(last, ReplyStored) and last.stopped
    assert last.message.content == "".join(seen).strip()
    assert last.message.usage_estimated


@pytest.mark.django_db
def test_empty_and_oversized_messages_are_refused(conversation, user, settings):
    settings.LUMA_MAX_MESSAGE_CHARS = 10
    with pytest.raises(InvalidMessage, match="empty"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="   ")
    with pytest.raises(InvalidMessage, match="too long"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="x" * 11)
    with pytest.raises(InvalidMessage, match="NUL"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="a\x00b")
    assert not Message.objects.exists()


def test_discord_speakers_are_named_in_the_history(use_deepseek, openai_server):
    from chat.services import conversation_for_discord_channel

    conversation = conversation_for_discord_channel(channel_id="999", title="#general")
    speaker = Speaker(discord_id="42", name="kai", channel=Channel.DISCORD)
    conversation_reply(conversation=conversation, speaker=speaker, text="hi all")
    sent = openai_server.requests[-1]["json"]["messages"]
    assert sent[-1]["content"] == "kai: hi all"
    assert "talking with kai" in sent[0]["content"]
    assert conversation.messages.first().channel == Channel.DISCORD


def test_a_fallback_reply_records_which_provider_answered(
    use_deepseek, openai_server, conversation, user
):
    runtime_settings_update(
        provider="ollama",
        ollama_endpoint=f"http://127.0.0.1:{free_port()}",
        fallback_provider="deepseek",
    )
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hello?")
    assert (done.message.provider, done.message.model) == ("deepseek", "fake-chat")
    assert done.message.content == openai_server.behaviour.reply


def test_a_resend_answers_the_stored_message_without_storing_it_again(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour.status = 500
    with pytest.raises(ProviderError) as raised:
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hello?")
    openai_server.behaviour.status = 200

    done = conversation_reply(
        conversation=conversation,
        speaker=Speaker(user=user),
        text="",
        resend_of=raised.value.context["user_message_id"],
    )

    assert list(conversation.messages.values_list("role", "content")) == [
        (Role.USER, "hello?"),
        (Role.ASSISTANT, openai_server.behaviour.reply),
    ]
    assert done.user_message.pk == raised.value.context["user_message_id"]


def test_only_a_message_without_a_reply_can_be_resent(use_deepseek, conversation, user):
    first = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="one")
    with pytest.raises(InvalidMessage, match="has no reply yet"):
        conversation_reply(
            conversation=conversation,
            speaker=Speaker(user=user),
            text="",
            resend_of=first.user_message.pk,
        )


def test_nul_characters_in_a_model_reply_are_dropped_before_storing(
    conversation, user, use_deepseek, openai_server
):
    openai_server.behaviour.reply = "Good\x00 morning"
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")
    assert done.message.content == "Good morning"
