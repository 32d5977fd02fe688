"""One conversation, one order: whatever failed, stopped or arrived together, the
prompt Luma sends alternates user and assistant after the system message, and
nothing anyone sent is lost or answered twice."""

import threading
import time

import pytest

from chat.models import Channel, Message, ReplyStatus, Role
from chat.services import (
    CONTINUE_PROMPT,
    InvalidMessage,
    ReplyContinues,
    ReplyStored,
    Speaker,
    conversation_for_discord_channel,
    conversation_for_owner,
    conversation_reply,
    conversation_reply_stream,
)
from chat.turns import conversation_turn
from providers.base import Reasoning
from providers.errors import ContextTooLong, ProviderError
from providers.testing.fakes import FakeBehaviour


@pytest.fixture
def conversation(user):
    return conversation_for_owner(owner=user, conversation_id=None)


def roles_alternate(messages: list[dict]) -> bool:
    roles = [m["role"] for m in messages]
    expected = ["system"] + ["user" if i % 2 == 0 else "assistant" for i in range(len(roles) - 1)]
    return roles == expected and roles[-1] == "user"


def sent_prompts(server) -> list[list[dict]]:
    return [
        r["json"]["messages"] for r in server.requests if r["path"].endswith("/chat/completions")
    ]


def test_after_a_failed_reply_the_next_prompt_merges_both_messages(
    use_deepseek, openai_server, conversation, user, settings
):
    settings.LUMA_PROVIDER_RETRIES = 0
    openai_server.behaviour.status = 429
    with pytest.raises(ProviderError):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="first")
    openai_server.behaviour.status = 200
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="second")

    prompt = sent_prompts(openai_server)[-1]
    assert roles_alternate(prompt)
    assert prompt[-1]["content"] == "first\n\nsecond"
    # The reply answers both: neither can be resent, the next prompt shows one turn each.
    assert done.message.reply_to == done.user_message
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="third")
    assert [m["role"] for m in sent_prompts(openai_server)[-1]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]


@pytest.mark.django_db(transaction=True)
def test_messages_sent_at_the_same_moment_are_answered_in_order_and_once(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour.chunk_delay = 0.02
    results: list[ReplyStored] = []
    errors: list[Exception] = []

    def send(text: str) -> None:
        try:
            results.append(
                conversation_reply(conversation=conversation, speaker=Speaker(user=user), text=text)
            )
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(f"message {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(results) == 4
    assert all(roles_alternate(prompt) for prompt in sent_prompts(openai_server))
    users = Message.objects.filter(conversation=conversation, role=Role.USER)
    assert sorted(users.values_list("content", flat=True)) == [f"message {n}" for n in range(4)]
    replies = Message.objects.filter(conversation=conversation, role=Role.ASSISTANT)
    # Each reply was written for a different newest message; a message is covered once.
    assert len(set(replies.values_list("reply_to_id", flat=True))) == replies.count()
    assert replies.count() == len(sent_prompts(openai_server))
    assert {r.message.pk for r in results} == set(replies.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_discord_viewers_in_one_channel_get_an_alternating_prompt(use_deepseek, openai_server):
    openai_server.behaviour.chunk_delay = 0.02
    conversation = conversation_for_discord_channel(channel_id="42", title="#general")
    viewers = [
        Speaker(discord_id="1", name="Aiko", channel=Channel.DISCORD),
        Speaker(discord_id="2", name="Ben", channel=Channel.DISCORD),
    ]
    results: list[ReplyStored] = []
    threads = [
        threading.Thread(
            target=lambda s=speaker: results.append(
                conversation_reply(conversation=conversation, speaker=s, text=f"hi from {s.name}")
            )
        )
        for speaker in viewers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2
    prompts = sent_prompts(openai_server)
    assert all(roles_alternate(prompt) for prompt in prompts)
    said = "\n\n".join(prompt[-1]["content"] for prompt in prompts)
    assert "Aiko: hi from Aiko" in said and "Ben: hi from Ben" in said


def test_a_reply_that_breaks_off_keeps_its_text_as_an_interrupted_reply(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour = FakeBehaviour(reply="Half of an answer", garbage=True)
    events = []
    with pytest.raises(ProviderError, match="broke off in the middle") as raised:
        for event in conversation_reply_stream(
            conversation=conversation, speaker=Speaker(user=user), text="tell me"
        ):
            events.append(event)

    partial = events[-1]
    assert isinstance(partial, ReplyStored)
    assert partial.message.status == ReplyStatus.INTERRUPTED
    assert partial.message.content == "Half"
    assert raised.value.context["reply_id"] == partial.message.pk

    openai_server.behaviour = FakeBehaviour(reply=" of an answer.")
    done = conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), continue_of=partial.message.pk
    )
    assert done.message.pk == partial.message.pk
    assert done.message.content == "Half of an answer."
    assert done.message.status == ReplyStatus.COMPLETE
    prompt = sent_prompts(openai_server)[-1]
    assert roles_alternate(prompt)
    assert prompt[-2] == {"role": "assistant", "content": "Half"}
    assert prompt[-1] == {"role": "user", "content": CONTINUE_PROMPT}


def test_a_reply_cut_off_by_max_tokens_is_marked_and_can_be_continued(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour = FakeBehaviour(
        reply="The three best games are", finish_reason="length"
    )
    cut = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="top 3?")
    assert cut.message.status == ReplyStatus.LENGTH

    openai_server.behaviour = FakeBehaviour(reply=" Zelda, Celeste and Hades.")
    events = list(
        conversation_reply_stream(
            conversation=conversation, speaker=Speaker(user=user), continue_of=cut.message.pk
        )
    )
    assert isinstance(events[0], ReplyContinues)
    done = events[-1]
    assert done.message.content == "The three best games are Zelda, Celeste and Hades."
    assert done.message.status == ReplyStatus.COMPLETE
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_only_the_last_incomplete_reply_can_be_continued(
    use_deepseek, openai_server, conversation, user
):
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="hi")
    with pytest.raises(InvalidMessage, match="nothing to continue"):
        conversation_reply(
            conversation=conversation, speaker=Speaker(user=user), continue_of=done.message.pk
        )
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="again")
    done.message.status = ReplyStatus.LENGTH
    done.message.save()
    with pytest.raises(InvalidMessage, match="Only the last reply"):
        conversation_reply(
            conversation=conversation, speaker=Speaker(user=user), continue_of=done.message.pk
        )


def test_a_stopped_reply_stays_in_the_history(use_deepseek, openai_server, conversation, user):
    openai_server.behaviour = FakeBehaviour(reply="one two three four five", chunk_delay=0.01)
    seen = []
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=Speaker(user=user),
        text="count",
        should_stop=lambda: len(seen) >= 2,
    )
    for event in events:
        if isinstance(event, str):
            seen.append(event)
    stopped = Message.objects.get(conversation=conversation, role=Role.ASSISTANT)
    assert stopped.status == ReplyStatus.STOPPED
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="go on")
    prompt = sent_prompts(openai_server)[-1]
    assert roles_alternate(prompt)
    assert prompt[-2]["content"] == stopped.content


def test_a_prompt_too_long_for_the_model_is_retried_once_with_less_history(
    use_deepseek, openai_server, conversation, user, settings
):
    settings.LUMA_PROMPT_TOKEN_BUDGET = 3000
    for n in range(10):
        Message.objects.create(conversation=conversation, role=Role.USER, content=f"{n}" * 600)
        Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="ok " * 200)
    openai_server.behaviour.max_prompt_chars = 7000

    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="still?")

    prompts = sent_prompts(openai_server)
    assert len(prompts) == 2
    assert (
        sum(len(m["content"]) for m in prompts[1])
        <= 7000
        < sum(len(m["content"]) for m in prompts[0])
    )
    assert roles_alternate(prompts[1])
    assert done.message.content == openai_server.behaviour.reply

    openai_server.behaviour.max_prompt_chars = 10
    with pytest.raises(ContextTooLong):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="and now?")
    assert len(sent_prompts(openai_server)) == 4  # one retry, not more


@pytest.mark.parametrize("reasoning_as", ["tags", "open-in-prompt", "field"])
def test_reasoning_is_stored_apart_and_never_sent_back(
    use_deepseek, openai_server, conversation, user, reasoning_as
):
    openai_server.behaviour = FakeBehaviour(
        reply="Mochi is fine!", reasoning="They ask about the cat.", reasoning_as=reasoning_as
    )
    events = list(
        conversation_reply_stream(
            conversation=conversation, speaker=Speaker(user=user), text="cat?"
        )
    )
    done = events[-1]
    assert done.message.content == "Mochi is fine!"
    assert done.message.reasoning == "They ask about the cat."
    if reasoning_as != "open-in-prompt":  # then it streams as text until the closing tag
        assert "".join(e for e in events if isinstance(e, str)) == "Mochi is fine!"
        assert "".join(e.text for e in events if isinstance(e, Reasoning)).strip() == (
            "They ask about the cat."
        )
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="and?")
    history = sent_prompts(openai_server)[-1]
    assert all(
        "think" not in m["content"] and "ask about the cat" not in m["content"] for m in history[1:]
    )


def test_a_reply_that_is_all_reasoning_says_to_raise_max_tokens(
    use_deepseek, openai_server, conversation, user
):
    openai_server.behaviour = FakeBehaviour(
        reply="", reasoning="Let me think " * 20, finish_reason="length"
    )
    with pytest.raises(ProviderError, match="Raise Max tokens in Settings"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="why?")
    # The message is kept and can be answered again.
    openai_server.behaviour = FakeBehaviour(reply="Because.")
    done = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="?")
    assert done.message.content == "Because."


@pytest.mark.django_db(transaction=True)
def test_messages_waiting_for_the_same_turn_get_one_reply_together(
    use_deepseek, openai_server, conversation, user
):
    results: list[ReplyStored] = []
    with conversation_turn(conversation.pk, should_stop=lambda: False):  # a reply is running
        threads = [
            threading.Thread(
                target=lambda t=text: results.append(
                    conversation_reply(
                        conversation=conversation, speaker=Speaker(user=user), text=t
                    )
                )
            )
            for text in ("first", "second")
        ]
        for thread in threads:
            thread.start()
        while Message.objects.filter(conversation=conversation).count() < 2:
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=30)

    assert len(sent_prompts(openai_server)) == 1
    assert sent_prompts(openai_server)[0][-1]["content"] in ("first\n\nsecond", "second\n\nfirst")
    assert results[0].message.pk == results[1].message.pk
    assert sorted(r.together for r in results) == [False, True]
