"""Reasoning apart from the reply, whatever the server and however it splits the tags."""

import pytest

from providers.base import ChatOptions, Reasoning, Usage
from providers.reasoning import ReasoningSplitter, ReplyWasReasoning
from providers.registry import chat_options_from, provider_build
from providers.testing.fakes import FakeBehaviour

THINKING = "The viewer asks about cats. Mochi is their cat."
REPLY = "Mochi is doing great, thanks for asking!"


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = ReasoningSplitter()
    items = [item for chunk in chunks for item in splitter.feed(chunk)] + splitter.close()
    reply = "".join(item for item in items if isinstance(item, str))
    reasoning = "".join(item.text for item in items if isinstance(item, Reasoning))
    return reply, reasoning


def every_cut(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 1000])
def test_think_tags_split_anywhere_are_taken_out(size):
    streamed = f"<think>{THINKING}</think>\n\n{REPLY}"
    assert split(every_cut(streamed, size)) == (REPLY, THINKING)


@pytest.mark.parametrize(
    ("streamed", "expected"),
    [
        (f"\n <think>{THINKING}</think>{REPLY}", (REPLY, THINKING)),  # whitespace first
        (f"<THINK>{THINKING}</Think>{REPLY}", (REPLY, THINKING)),  # any case
        (f"<thinking>{THINKING}</thinking>{REPLY}", (REPLY, THINKING)),
        (f"<think></think>{REPLY}", (REPLY, "")),  # qwen3 with thinking off
        (f"<think>{THINKING}", ("", THINKING)),  # cut off while thinking
        (
            "Use <think> tags like <think>this</think>.",
            ("Use <think> tags like <think>this</think>.", ""),
        ),
        ("<b>bold</b> answer", ("<b>bold</b> answer", "")),  # a tag-like start that is not one
        ("<", ("<", "")),
        ("", ("", "")),
    ],
)
def test_only_a_leading_block_is_reasoning(streamed, expected):
    assert split(every_cut(streamed, 2)) == expected


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_a_closing_tag_with_no_opening_one_turns_what_came_into_thinking(size):
    splitter = ReasoningSplitter()
    streamed = f"{THINKING}\n</think>\n\n{REPLY}"
    items = [item for chunk in every_cut(streamed, size) for item in splitter.feed(chunk)]
    items += splitter.close()
    recast = next(i for i, item in enumerate(items) if isinstance(item, ReplyWasReasoning))
    shown_first = "".join(item for item in items[:recast] if isinstance(item, str))
    assert THINKING.startswith(shown_first.strip())
    assert "".join(item for item in items[recast:] if isinstance(item, str)) == REPLY
    thinking = shown_first + "".join(i.text for i in items[recast:] if isinstance(i, Reasoning))
    assert thinking.strip() == THINKING
    assert not any(isinstance(item, str) and "</" in item for item in items)


def test_after_a_closed_block_a_closing_tag_is_text():
    assert split(every_cut("<think>a</think>Use </think> to end.", 4)) == (
        "Use </think> to end.",
        "a",
    )


def stream_items(row, behaviour: FakeBehaviour, server) -> tuple[str, str, Usage]:
    server.behaviour = behaviour
    items = list(
        provider_build(row).stream([{"role": "user", "content": "hi"}], chat_options_from(row))
    )
    reply = "".join(i for i in items if isinstance(i, str))
    reasoning = "".join(i.text for i in items if isinstance(i, Reasoning))
    return reply, reasoning, items[-1]


@pytest.mark.parametrize("reasoning_as", ["tags", "field"])
def test_openai_compatible_servers_reasoning_is_apart(use_deepseek, openai_server, reasoning_as):
    behaviour = FakeBehaviour(reply=REPLY, reasoning=THINKING, reasoning_as=reasoning_as)
    reply, reasoning, usage = stream_items(use_deepseek, behaviour, openai_server)
    assert reply == REPLY
    assert reasoning.strip() == THINKING
    assert isinstance(usage, Usage)


@pytest.mark.parametrize("reasoning_as", ["tags", "field"])
def test_ollama_reasoning_is_apart(use_ollama, ollama_server, reasoning_as):
    behaviour = FakeBehaviour(reply=REPLY, reasoning=THINKING, reasoning_as=reasoning_as)
    reply, reasoning, _ = stream_items(use_ollama, behaviour, ollama_server)
    assert reply == REPLY
    assert reasoning.strip() == THINKING


def test_complete_returns_the_answer_only(use_ollama, ollama_server):
    ollama_server.behaviour = FakeBehaviour(reply='{"memories": []}', reasoning=THINKING)
    completion = provider_build(use_ollama).complete(
        [{"role": "user", "content": "hi"}], ChatOptions(model="fake-chat")
    )
    assert completion.text == '{"memories": []}'


@pytest.mark.parametrize("server_fixture", ["use_deepseek", "use_ollama"])
def test_a_reply_cut_off_by_max_tokens_says_so(request, server_fixture):
    row = request.getfixturevalue(server_fixture)
    server = request.getfixturevalue(
        "openai_server" if server_fixture == "use_deepseek" else "ollama_server"
    )
    _, _, usage = stream_items(row, FakeBehaviour(reply=REPLY, finish_reason="length"), server)
    assert usage.finish_reason == "length"
    _, _, usage = stream_items(row, FakeBehaviour(reply=REPLY), server)
    assert usage.finish_reason == "stop"
