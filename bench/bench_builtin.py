"""The built-in model's first impression: SmolLM2-135M on llama.cpp, in process.

A new user's first replies come from it. Prints, for a few chat questions with
Luma's persona prompt: time to first token (the first reply includes loading
the model), tokens per second, how many replies ended on their own rather than
at the token limit, and the longest run of a repeated 4-word phrase (a loop).
The baseline, in the same run: llama.cpp's `create_chat_completion` called
directly with its default sampling and the same max tokens.

    .venv/bin/python bench/bench_builtin.py [--replies 6]
"""

import argparse
import statistics
import time
from collections import Counter

from benchenv import django_setup

django_setup("builtin")

from django.conf import settings  # noqa: E402

from providers.adapters import builtin  # noqa: E402
from providers.base import ChatOptions, Usage  # noqa: E402

PERSONA = "You are Luma, a cheerful VTuber. Keep replies short and friendly."
QUESTIONS = [
    "Hi! Who are you?",
    "What games do you like to stream?",
    "Tell me about your cat.",
    "Any tips for a new streamer?",
    "What did you eat today?",
    "Can you sing me a song?",
]


def repeated_phrase(text: str) -> int:
    """How often the most frequent 4-word phrase occurs (1: no repetition)."""
    words = text.split()
    grams = Counter(tuple(words[i : i + 4]) for i in range(len(words) - 3))
    return max(grams.values(), default=1)


def luma_reply(question: str) -> tuple[float, float, int, str, str]:
    messages = [{"role": "system", "content": PERSONA}, {"role": "user", "content": question}]
    started = time.perf_counter()
    first, text, usage = None, "", None
    for item in builtin.BuiltinProvider().stream(messages, ChatOptions(model=builtin.MODEL_NAME)):
        if isinstance(item, Usage):
            usage = item
        elif isinstance(item, str):
            first = first or time.perf_counter()
            text += item
    return (
        first - started,
        time.perf_counter() - first,
        usage.completion_tokens,
        usage.finish_reason,
        text,
    )


def direct_reply(question: str) -> tuple[float, float, int, str, str]:
    """llama.cpp with its own default sampling: the baseline."""
    llm = builtin._load()
    messages = [{"role": "system", "content": PERSONA}, {"role": "user", "content": question}]
    started = time.perf_counter()
    first, text, tokens, finish = None, "", 0, "stop"
    for chunk in llm.create_chat_completion(
        messages=messages, max_tokens=settings.LUMA_BUILTIN_MAX_TOKENS, stream=True
    ):
        choice = chunk["choices"][0]
        finish = choice.get("finish_reason") or finish
        if choice["delta"].get("content"):
            first = first or time.perf_counter()
            tokens += 1
            text += choice["delta"]["content"]
    return first - started, time.perf_counter() - first, tokens, finish, text


def report(name: str, runs: list[tuple[float, float, int, str, str]]) -> None:
    ttfts = [r[0] for r in runs]
    rates = [r[2] / r[1] for r in runs if r[1] > 0]
    stopped = sum(1 for r in runs if r[3] == "stop")
    loops = max(repeated_phrase(r[4]) for r in runs)
    print(
        f"{name}: first token p50 {statistics.median(ttfts) * 1000:.0f} ms, max "
        f"{max(ttfts) * 1000:.0f} ms; {statistics.median(rates):.0f} tokens/s; "
        f"{stopped}/{len(runs)} ended on their own; mean {statistics.mean(r[2] for r in runs):.0f} "
        f"tokens; most repeated 4-word phrase x{loops}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.replies)]
    print(f"threads {settings.LUMA_BUILTIN_THREADS}, max tokens {settings.LUMA_BUILTIN_MAX_TOKENS}")
    cold = luma_reply(questions[0])
    print(f"first reply after start (loads the model): first token {cold[0] * 1000:.0f} ms")
    report("Luma (its sampling)", [luma_reply(q) for q in questions])
    report("llama.cpp defaults (baseline)", [direct_reply(q) for q in questions])


if __name__ == "__main__":
    main()
