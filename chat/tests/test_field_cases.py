"""Field cases: public bug reports from similar projects, reduced to a small input
and tried on Luma (issue 12). Each case names its report (owner/repo#number); the
value asserted is what a person would expect.

Parsing and normalising functions are called directly; provider errors and
streams go through the real `openai` and `ollama` clients against the project's
fake servers (or a small scripted subclass of them, below).
"""

import json
import threading
from typing import Any

import pytest

from chat.models import Message, ReplyStatus, Role
from chat.services import (
    CONTINUE_PROMPT,
    Speaker,
    conversation_for_owner,
    conversation_reply,
    conversation_reply_stream,
    prompt_build,
)
from chat.suggestions import suggestions_parse
from discordbot import handlers
from discordbot.tests.fakes import FakeChannel, FakeInteraction, FakeMember
from luma.endpoints import base_url_normalise, ollama_endpoint_normalise
from luma.errors import LumaError
from luma.services import runtime_settings_get, runtime_settings_update
from providers.adapters.deepseek import DeepSeekProvider
from providers.base import ChatOptions, Reasoning
from providers.connection import connection_test
from providers.errors import (
    ContextTooLong,
    InsufficientBalance,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    WrongEndpoint,
)
from providers.reasoning import ReasoningSplitter, ReplyWasReasoning
from providers.testing.fakes import FakeBehaviour, FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "hi"}]
CHAT = ChatOptions(model="fake-chat")


# --- fakes that play one more real server behaviour --------------------------------------


class ScriptedOpenAIServer(FakeOpenAIServer):
    """Streams exactly the events a test gives: a delta dict each (`{"content": …}`,
    `{"reasoning": …}`), or a whole payload when it holds an `error` (a server that
    reports a failure inside a 200 event stream: LM Studio, lemonade, proxies)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__()
        self.events = events

    def _chat(self, handler: Any, body: dict[str, Any]) -> None:
        handler.start_stream("text/event-stream")
        for event in self.events:
            payload = event
            if "error" not in event:
                choice = {"index": 0, "delta": event, "logprobs": None, "finish_reason": None}
                payload = {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [choice],
                }
            handler.write_chunk(f"data: {json.dumps(payload)}\n\n")
        handler.write_chunk("data: [DONE]\n\n", last=True)


def roles_refused(messages: list[dict[str, Any]]) -> str | None:
    """What a strict chat template (Mistral, Gemma, Qwen3 on vLLM) says about these
    messages, or None when it renders them."""
    turns = [m["role"] for m in messages if m["role"] != "system"]
    if "user" not in turns:
        return "No user query found in messages."
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(turns))]
    if turns != expected or turns[-1] != "user":
        return "Conversation roles must alternate user/assistant/user/assistant/..."
    return None


class StrictTemplateServer(FakeOpenAIServer):
    """vLLM serving a model whose chat template raises on a prompt that does not
    alternate: 400 in vLLM's error shape (a top-level `message`)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def _chat(self, handler: Any, body: dict[str, Any]) -> None:
        said = roles_refused(body.get("messages") or [])
        if said is not None:
            self.refused.append(said)
            handler.send_json(
                400, {"object": "error", "message": said, "type": "BadRequestError", "code": 400}
            )
            return
        super()._chat(handler, body)


@pytest.fixture
def strict_server():
    with StrictTemplateServer() as server:
        yield server


@pytest.fixture
def use_strict(db, strict_server):
    runtime_settings_get()
    return runtime_settings_update(
        provider="deepseek",
        deepseek_api_key="sk-test-secret-key-1234",
        deepseek_base_url=strict_server.base_url,
        deepseek_model="fake-chat",
    )


def openai_provider(base_url: str) -> DeepSeekProvider:
    return DeepSeekProvider(api_key="sk-test", base_url=base_url, timeout=5)


def failure(call) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        call()
    return raised.value


def sent_prompts(server) -> list[list[dict]]:
    return [
        r["json"]["messages"]
        for r in server.requests
        if r["path"].endswith(("/chat/completions", "/api/chat"))
    ]


# --- (a) reasoning separated from the reply ----------------------------------------------


def split(text: str, size: int) -> tuple[str, str]:
    """(reply, reasoning) of `text` streamed in pieces of `size` characters."""
    splitter = ReasoningSplitter()
    items = []
    for start in range(0, len(text), size):
        items += splitter.feed(text[start : start + size])
    items += splitter.close()
    reply, reasoning = "", ""
    for item in items:
        if isinstance(item, ReplyWasReasoning):
            reasoning, reply = reasoning + reply, ""
        elif isinstance(item, Reasoning):
            reasoning += item.text
        else:
            reply += item
    return reply.strip(), reasoning.strip()


REASONING_CASES = [
    # mudler/LocalAI#4761, canonical/inference-snaps#104, open-webui/open-webui#11259,
    # ollama/ollama#18044: the template opened the block, only `</think>` arrives.
    pytest.param(
        "Okay, the user said hello. I should greet back.\n</think>\n\nHello! How can I help?",
        ("Hello! How can I help?", "Okay, the user said hello. I should greet back."),
        id="LocalAI#4761-no-opening-tag",
    ),
    # QwenLM/Qwen-Agent#542: qwen3 with /no_think sends an empty block.
    pytest.param("<think>\n\n</think>\n\nHi!", ("Hi!", ""), id="Qwen-Agent#542-empty-block"),
    # SillyTavern/SillyTavern#3364: r1 formatted as `<thinking>`.
    pytest.param(
        "<thinking>They are happy.</thinking>\nYay!",
        ("Yay!", "They are happy."),
        id="SillyTavern#3364-thinking-variant",
    ),
    # ROCm/FastFlowLM#739: cut off mid-thought, the thought must not become the answer.
    pytest.param(
        "<think>Okay, the user asks about the cat and I should",
        ("", "Okay, the user asks about the cat and I should"),
        id="FastFlowLM#739-cut-off-while-thinking",
    ),
    # nbramia/LifeOS#568 (defect 2), raullenchai/Rapid-MLX#1778: literal tags in prose.
    pytest.param(
        "Use `<think>draft</think>` as the example tag.",
        ("Use `<think>draft</think>` as the example tag.", ""),
        id="LifeOS#568-literal-pair-in-prose",
    ),
    pytest.param(
        "BEGIN <think> AFTER END", ("BEGIN <think> AFTER END", ""), id="Rapid-MLX#1778-opening"
    ),
    pytest.param(
        "Close the block with `</think>` and the answer follows.",
        ("Close the block with `</think>` and the answer follows.", ""),
        id="Rapid-MLX#1778-closing-tag-quoted-in-code",
    ),
    # UKGovernmentBEIS/inspect_ai#4385: a block whose thinking quotes the tag itself.
    pytest.param(
        "<think>Outer <think>inner</think> continues</think>Visible text",
        ("Visible text", "Outer <think>inner</think> continues"),
        id="inspect_ai#4385-nested-block",
    ),
    # keinsaasforever/better-chatbot#107: Kimi thinking models via OpenRouter.
    pytest.param(
        "◁think▷The user greets me.◁/think▷Hello!",
        ("Hello!", "The user greets me."),
        id="better-chatbot#107-kimi-think-tags",
    ),
]


@pytest.mark.parametrize("size", [1, 3, 1000])
@pytest.mark.parametrize(("streamed", "expected"), REASONING_CASES)
def test_reasoning_is_told_from_the_reply(streamed, expected, size):
    assert split(streamed, size) == expected


def test_vllm_reasoning_field_is_kept_apart():
    """strands-agents/harness-sdk#2182, BerriAI/litellm#20246: vLLM renamed the
    streamed `reasoning_content` to `reasoning`."""
    events = [{"role": "assistant", "reasoning": "The viewer greets me."}, {"content": "Hi!"}]
    with ScriptedOpenAIServer(events) as server:
        items = list(openai_provider(server.base_url).stream(MESSAGES, CHAT))
    assert "".join(i for i in items if isinstance(i, str)) == "Hi!"
    assert "".join(i.text for i in items if isinstance(i, Reasoning)) == "The viewer greets me."


def test_ollama_thinking_is_never_sent_back_as_history(use_ollama, ollama_server, user):
    """danny-avila/LibreChat#6834, continuedev/continue#3832: a reasoning model's
    thoughts must not go back to it as the assistant's earlier turn."""
    ollama_server.behaviour = FakeBehaviour(
        reply="Mochi is fine!", reasoning="They ask about the cat.", reasoning_as="tags"
    )
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    first = conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="cat?")
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="and?")

    assert (first.message.content, first.message.reasoning) == (
        "Mochi is fine!",
        "They ask about the cat.",
    )
    history = sent_prompts(ollama_server)[-1]
    assert history[-2] == {"role": "assistant", "content": "Mochi is fine!"}


def test_a_reply_cut_off_while_thinking_asks_for_more_max_tokens(use_ollama, ollama_server, user):
    """ROCm/FastFlowLM#739: 'when generation is truncated mid-thought, the partial
    thought becomes the entire answer'."""
    ollama_server.behaviour = FakeBehaviour(
        reply="<think>Okay, the user asks about the cat and I should", finish_reason="length"
    )
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    with pytest.raises(ProviderError, match="Raise Max tokens in Settings"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="cat?")
    assert not Message.objects.filter(conversation=conversation, role=Role.ASSISTANT).exists()


# --- (b) prompts that strict chat templates accept ---------------------------------------


def test_a_strict_template_never_sees_two_turns_of_one_role(
    use_strict, strict_server, user, settings
):
    """unslothai/unsloth#334, run-llama/llama_index#11731, MinLL/SkyrimNet-GamePlugin#309:
    `TemplateError: Conversation roles must alternate user/assistant/user/assistant/...`
    after a failed reply, a stopped one, a broken-off one and Continue."""
    settings.LUMA_PROVIDER_RETRIES = 0
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    speaker = Speaker(user=user)

    strict_server.behaviour.status = 429  # the first reply fails before any text
    with pytest.raises(ProviderError):
        conversation_reply(conversation=conversation, speaker=speaker, text="first")
    strict_server.behaviour.status = 200
    conversation_reply(conversation=conversation, speaker=speaker, text="second")

    strict_server.behaviour = FakeBehaviour(reply="one two three four", chunk_delay=0.01)
    seen: list[str] = []
    for event in conversation_reply_stream(
        conversation=conversation, speaker=speaker, text="count", should_stop=lambda: len(seen) > 1
    ):
        seen += [event] if isinstance(event, str) else []
    conversation_reply(conversation=conversation, speaker=speaker, text="go on")

    strict_server.behaviour = FakeBehaviour(reply="Half of it", garbage=True)
    events = []
    with pytest.raises(ProviderError, match="broke off"):
        for event in conversation_reply_stream(
            conversation=conversation, speaker=speaker, text="tell me"
        ):
            events.append(event)
    strict_server.behaviour = FakeBehaviour(reply=" and the rest.")
    done = conversation_reply(
        conversation=conversation, speaker=speaker, continue_of=events[-1].message.pk
    )

    assert done.message.status == ReplyStatus.COMPLETE
    assert strict_server.refused == []
    assert sent_prompts(strict_server)[-1][-1] == {"role": "user", "content": CONTINUE_PROMPT}


def test_a_message_longer_than_the_history_budget_still_reaches_the_model(
    use_strict, strict_server, user, settings
):
    """vllm-project/vllm#36432, lmstudio-ai/lmstudio-bug-tracker#1586: Qwen3's template
    raises 'No user query found in messages.' on a prompt without a user turn."""
    settings.LUMA_PROMPT_TOKEN_BUDGET = 1000
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    try:
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="a " * 3000)
    except LumaError as error:  # a clear refusal is a right answer too
        assert "too long" in error.message
    assert strict_server.refused == []


def test_the_builtin_models_prompt_keeps_a_long_first_message(db, user):
    """Same kind as vllm-project/vllm#36432, on a new user's first impression."""
    row = runtime_settings_update(provider="builtin")
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    text = "Tell me about my stream schedule. " * 200  # 6,800 characters
    Message.objects.create(conversation=conversation, role=Role.USER, content=text)
    messages, _ = prompt_build(
        row=row, conversation=conversation, speaker=Speaker(user=user), text=text
    )
    assert messages[-1]["role"] == "user"


# --- (c) what each server says when it fails ---------------------------------------------

SERVER_ERRORS = [
    # anomalyco/opencode#12219, QwenLM/qwen-code#73: OpenRouter out of credits.
    pytest.param(
        402,
        "This request requires more credits, or fewer max_tokens. You requested up to 16384 "
        "tokens, but can only afford 3919. To increase, visit https://openrouter.ai/settings/credits",
        InsufficientBalance,
        "can only afford 3919",
        id="opencode#12219-openrouter-402",
    ),
    # lmstudio-ai/lmstudio-bug-tracker#237, cline/cline#3664: LM Studio's own wording.
    pytest.param(
        400,
        "Trying to keep the first 15857 tokens when context the overflows. However, the model "
        "is loaded with context length of only 4096 tokens, which is not enough.",
        ContextTooLong,
        "context length of only 4096",
        id="lmstudio#237-keep-first-tokens",
    ),
    # anomalyco/opencode#11141: LM Studio, newer wording.
    pytest.param(
        400,
        "Cannot truncate prompt with n_keep (15028) >= n_ctx (7424)",
        ContextTooLong,
        "n_keep (15028)",
        id="opencode#11141-lmstudio-n_keep",
    ),
    # ggml-org/llama.cpp#19774: the same overflow, sometimes 500, sometimes 400.
    pytest.param(
        500,
        "Context size has been exceeded.",
        ContextTooLong,
        "Context size has been exceeded",
        id="llama.cpp#19774-500",
    ),
    pytest.param(
        400,
        "request (4390 tokens) exceeds the available context size (4096 tokens), try increasing it",
        ContextTooLong,
        "available context size",
        id="llama.cpp#19774-400",
    ),
    # xorbitsai/inference#3785, unslothai/unsloth#2666: vLLM's engine wording.
    pytest.param(
        400,
        "The decoder prompt (length 17772) is longer than the maximum model length of 16384. "
        "Make sure that `max_model_len` is no smaller than the number of text tokens.",
        ContextTooLong,
        "maximum model length of 16384",
        id="inference#3785-vllm-decoder-prompt",
    ),
    # hiyouga/LlamaFactory#7723: vLLM V1 wording.
    pytest.param(
        400,
        "Prompt length of 5016 is longer than the maximum model length of 4096.",
        ContextTooLong,
        "maximum model length of 4096",
        id="LlamaFactory#7723-vllm-v1-prompt-length",
    ),
    # sjzar/chatlog#30: an OpenAI-compatible server counting max_seq_len.
    pytest.param(
        400,
        "length of prompt_tokens (163280) must be less than max_seq_len (32768).",
        ContextTooLong,
        "max_seq_len (32768)",
        id="chatlog#30-max_seq_len",
    ),
    # continuedev/continue#10920: Groq's daily token limit.
    pytest.param(
        429,
        "Rate limit reached for model `llama-3.3-70b-versatile` on tokens per day (TPD): "
        "Limit 100000, Used 97050, Requested 3619. Please try again in 9m38.016s.",
        ProviderRateLimited,
        "try again in 9m38.016s",
        id="continue#10920-groq-429",
    ),
    # elizaOS/eliza#4040, HunorLaczko/ha-groq-cloud-api#27: Groq sends 413 for a request
    # over the per-minute token allowance.
    pytest.param(
        413,
        "Request too large for model `llama-3.1-8b-instant` in organization `org_x` service "
        "tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 12328, please "
        "reduce your message size and try again.",
        (ProviderRateLimited, ContextTooLong),
        "Limit 6000, Requested 12328",
        id="eliza#4040-groq-413",
    ),
    # Generic overload from a hosted server.
    pytest.param(
        503,
        "The model is overloaded. Please try again later.",
        ProviderServerError,
        "overloaded",
        id="overloaded-503",
    ),
]


@pytest.mark.parametrize(("status", "said", "kind", "quoted"), SERVER_ERRORS)
def test_each_servers_wording_becomes_the_right_error(status, said, kind, quoted):
    with FakeOpenAIServer(FakeBehaviour(status=status, error_message=said)) as server:
        error = failure(lambda: openai_provider(server.base_url).complete(MESSAGES, CHAT))
    assert isinstance(error, kind)
    assert quoted in error.message
    assert "Check the address and the model" not in error.message


@pytest.mark.parametrize(
    ("error", "kind", "quoted"),
    [
        (
            {
                "message": "request (6009 tokens) exceeds the available context size (4096 "
                "tokens), try increasing it",
                "type": "exceed_context_size_error",
            },
            ContextTooLong,
            "available context size",
        ),
        ({"message": "quota exceeded"}, ProviderError, "quota exceeded"),
    ],
    ids=["lemonade#2826-context", "rocketmq-dashboard#2178-quota"],
)
def test_an_error_reported_inside_the_stream_keeps_its_reason(error, kind, quoted):
    """lemonade-sdk/lemonade#2826, apache/rocketmq-dashboard#2178,
    lmstudio-ai/lmstudio-bug-tracker#2322: `data: {"error": {...}}` in a 200 stream."""
    with ScriptedOpenAIServer([{"error": error}]) as server:
        failed = failure(lambda: list(openai_provider(server.base_url).stream(MESSAGES, CHAT)))
    assert isinstance(failed, kind)
    assert quoted in failed.message


def test_an_ollama_root_given_as_an_openai_base_says_where_v1_goes(openai_server):
    """jakobdylanc/llmcord#56, ollama/ollama#2474, xerrors/Yuxi#111: the base URL
    without `/v1` answers 404 at `/chat/completions`."""
    error = failure(lambda: openai_provider(openai_server.url).complete(MESSAGES, CHAT))
    assert isinstance(error, WrongEndpoint)
    assert error.message.startswith("The address looks wrong")
    assert "/v1" in error.message


# --- (c) addresses as people paste them -------------------------------------------------

OLLAMA_ADDRESSES = [
    # ollama/ollama#5830, feiskyer/chatgpt-copilot#659: the OpenAI-compatible route.
    ("http://localhost:11434/v1", "http://localhost:11434"),
    ("http://localhost:11434/v1/chat/completions", "http://localhost:11434"),
    # BerriAI/litellm#8010: the native chat route.
    ("http://localhost:11434/api/chat", "http://localhost:11434"),
    # ollama/ollama#3050: a models route pasted from a curl check.
    ("http://localhost:11434/v1/models", "http://localhost:11434"),
    ("  http://gpu-box:11434/ \n", "http://gpu-box:11434"),
    ("gpu-box", "http://gpu-box:11434"),
]


@pytest.mark.parametrize(("typed", "normalised"), OLLAMA_ADDRESSES)
def test_ollama_addresses_are_normalised(typed, normalised):
    assert ollama_endpoint_normalise(typed) == normalised


BASE_URLS = [
    # ollama/ollama#5830 (the whole route pasted), curl examples in every README.
    (" https://openrouter.ai/api/v1/chat/completions/ ", "https://openrouter.ai/api/v1"),
    ("https://api.deepseek.com/v1/chat/completions\n", "https://api.deepseek.com/v1"),
    ("http://localhost:11434/v1/chat/completions", "http://localhost:11434/v1"),
    ("https://api.groq.com/openai/v1", "https://api.groq.com/openai/v1"),
    # ollama/ollama#3050 ("API: /v1/models got 404"): LM Studio's and vLLM's READMEs check
    # the server with `curl http://localhost:1234/v1/models`, and that is what gets pasted.
    pytest.param(
        "http://localhost:1234/v1/models",
        "http://localhost:1234/v1",
    ),
]


@pytest.mark.parametrize(("typed", "normalised"), BASE_URLS)
def test_base_urls_are_normalised(typed, normalised):
    assert base_url_normalise(typed) == normalised


def test_test_connection_accepts_an_ollama_endpoint_with_v1(db, ollama_server):
    """ollama/ollama#5830 again, through Test connection."""
    result = connection_test(
        row=runtime_settings_get(),
        provider="ollama",
        address=f"{ollama_server.url}/v1",
        api_key=None,
        model="fake-chat",
    )
    assert (result.ok, result.address, result.model_found) == (True, ollama_server.url, True)


def test_test_connection_accepts_a_models_url_as_base(db, openai_server):
    """ollama/ollama#3050: the `/v1/models` address a curl check used."""
    result = connection_test(
        row=runtime_settings_get(),
        provider="deepseek",
        address=f"{openai_server.base_url}/models",
        api_key="sk-test-key",
        model="fake-chat",
    )
    assert (result.ok, result.address) == (True, openai_server.base_url)


# --- (d) memory suggestions from small models --------------------------------------------

SUGGESTION_ANSWERS = [
    # mem0ai/mem0#4526, win4r/o1#3: prose and a Markdown fence around the JSON.
    pytest.param(
        'Here are the facts I extracted:\n```json\n{"memories": [{"content": "Aiko likes '
        'cats"}]}\n```\nHope that helps!',
        ["Aiko likes cats"],
        id="mem0#4526-prose-and-fence",
    ),
    # mem0's own fact-extraction shape: {"facts": [strings]}.
    pytest.param(
        '{"facts": ["Aiko has a cat named Mochi", "Aiko streams on Fridays"]}',
        ["Aiko has a cat named Mochi", "Aiko streams on Fridays"],
        id="mem0-facts-of-strings",
    ),
    # Project-N-E-K-O/N.E.K.O#718: trailing commas and template double braces.
    pytest.param(
        '{"memories": [{"content": "Aiko likes cats", "importance": 6},],}',
        ["Aiko likes cats"],
        id="NEKO#718-trailing-commas",
    ),
    pytest.param(
        '{{"memories": [{"content": "Aiko likes cats"}]}}',
        ["Aiko likes cats"],
        id="NEKO#718-double-braces",
    ),
    # mem0ai/mem0#2043: one item lacks a key; the other is still usable.
    pytest.param(
        '{"memories": [{"event": "ADD"}, {"content": "Aiko likes cats"}]}',
        ["Aiko likes cats"],
        id="mem0#2043-item-missing-its-key",
    ),
    # mem0ai/mem0#1841: cut off by max tokens in the middle of a string.
    pytest.param(
        '{"memories": [{"content": "Aiko has a cat named Mochi", "importance": 7}, '
        '{"content": "Aiko streams on Fri',
        ["Aiko has a cat named Mochi"],
        id="mem0#1841-unterminated-string",
    ),
    # mangiucugna/json_repair#10, ml-explore/mlx-lm#1004: Python-dict style.
    pytest.param(
        "{'memories': [{'content': 'Aiko likes cats', 'importance': 6}]}",
        ["Aiko likes cats"],
        id="json_repair#10-single-quotes",
    ),
    # mem0ai/mem0#1841 / PR #1848: the exact shape a Llama answered there.
    pytest.param(
        "{\"facts\" : ['Likes to have ice-cream after dinner']}",
        ["Likes to have ice-cream after dinner"],
        id="mem0#1848-single-quoted-values",
    ),
    # Project-N-E-K-O/N.E.K.O#718: unquoted keys, Python literals.
    pytest.param(
        '{memories: [{content: "Aiko likes cats"}]}',
        ["Aiko likes cats"],
        id="NEKO#718-unquoted-keys",
    ),
    pytest.param(
        '{"memories": [{"content": "Aiko streams on Fridays", "importance": 7, "updates": None}]}',
        ["Aiko streams on Fridays"],
        id="NEKO#718-python-None",
    ),
    # mem0ai/mem0#2043: mem0's update prompt answers {"memory": [{"text": …, "event": …}]}.
    pytest.param(
        '{"memory": [{"id": "0", "text": "Aiko likes cats", "event": "ADD"}]}',
        ["Aiko likes cats"],
        id="mem0#2043-memory-batch-key",
    ),
]


@pytest.mark.parametrize(("answer", "kept"), SUGGESTION_ANSWERS)
def test_every_usable_suggestion_is_kept(answer, kept):
    assert [m.content for m in suggestions_parse(answer).memories] == kept


def test_an_answer_without_json_is_counted_as_dropped():
    """agentscope-ai/agentscope#1200, mem0ai/mem0#3391: 'Expecting value: line 1 column 1'
    from a model that answered in prose."""
    parsed = suggestions_parse("The user likes cats and streams on Fridays.")
    assert parsed.memories == []
    assert parsed.dropped == ["the answer holds no suggestions in a known shape"]


# --- (e) Discord: acknowledge before slow work ------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_slow_command_is_acknowledged_before_its_work(monkeypatch):
    """Pycord-Development/pycord#226, plastic-labs/tutor-gpt#13, Rapptz/discord.py#9507:
    'NotFound: 404 Not Found (error code: 10062): Unknown interaction' when a command
    answers after Discord's 3 seconds."""
    interaction = FakeInteraction(user=FakeMember(id=1, display_name="Aiko"))
    done = threading.Event()

    def slow_search(*, member, query):
        interaction.log.append("work")
        interaction.clock.advance(8.0)  # the cold vector index
        done.set()
        return []

    monkeypatch.setattr(handlers, "discord_memories_list", slow_search)
    await handlers.handle_memories(interaction, "zelda")

    assert done.is_set()
    assert interaction.log == ["defer", "work", "followup"]
    assert interaction.ephemeral_texts == ["I remember nothing about you matching “zelda”."]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_interaction_that_expired_before_the_defer_is_let_go(monkeypatch):
    """Pycord-Development/pycord#1973: the defer itself fails with 10062 when the bot
    was busy; the handler must not raise nor start work for nobody."""
    interaction = FakeInteraction(
        user=FakeMember(id=1, display_name="Aiko"), channel=FakeChannel(id=42)
    )
    interaction.clock.advance(4.0)
    started = []
    monkeypatch.setattr(
        handlers, "conversation_for_discord_channel", lambda **kw: started.append(kw)
    )
    await handlers.handle_chat(interaction, "hello", edit_interval=0.01)

    assert interaction.log == ["defer too late"]
    assert started == []
