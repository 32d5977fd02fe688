"""The real built-in model: SmolLM2-135M on llama.cpp, no server, no key."""

import pytest

from chat.models import Role
from chat.services import Speaker, conversation_for_owner, conversation_reply_stream
from providers.adapters.builtin import MODEL_NAME, BuiltinProvider
from providers.base import ChatOptions, Usage

pytestmark = pytest.mark.builtin_model

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_it_streams_a_real_reply_with_counted_usage():
    items = list(
        BuiltinProvider().stream_chat(
            QUESTION, ChatOptions(model=MODEL_NAME, temperature=0, max_tokens=32)
        )
    )
    text = "".join(item for item in items if isinstance(item, str))
    usage = items[-1]
    assert len(items) > 3, "a reply arrives in several chunks"
    assert "Paris" in text or "France" in text
    assert isinstance(usage, Usage) and not usage.estimated
    assert usage.prompt_tokens > 10
    assert 0 < usage.completion_tokens <= 32


def test_it_lists_its_one_model():
    assert BuiltinProvider().list_models() == [MODEL_NAME]


@pytest.mark.django_db
def test_a_fresh_install_chats_with_the_builtin_model(user):
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    events = list(
        conversation_reply_stream(
            conversation=conversation, speaker=Speaker(user=user), text="Hi! Who are you?"
        )
    )
    chunks = [event for event in events if isinstance(event, str)]
    assert len(chunks) > 1
    reply = conversation.messages.get(role=Role.ASSISTANT)
    assert reply.content == "".join(chunks).strip()
    assert (reply.provider, reply.model) == ("builtin", MODEL_NAME)
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0


def test_a_reply_cut_off_by_the_token_limit_says_so():
    items = list(
        BuiltinProvider().stream_chat(
            [{"role": "user", "content": "Write a long story about a dragon."}],
            ChatOptions(model=MODEL_NAME, temperature=0, max_tokens=5),
        )
    )
    usage = items[-1]
    assert usage.completion_tokens == 5
    assert usage.finish_reason == "length"


def test_its_replies_stop_on_their_own_instead_of_looping():
    options = ChatOptions(model=MODEL_NAME, temperature=0)
    items = list(BuiltinProvider().stream_chat(QUESTION, options))
    usage = items[-1]
    assert usage.finish_reason == "stop"
    assert usage.completion_tokens < 200
