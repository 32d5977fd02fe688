"""Time to first token Luma's OpenAI-compatible endpoint adds over the provider itself.

Starts, each in its own process: a fake OpenAI-compatible server that streams, and
Luma under daphne on a fresh SQLite database whose settings point at it, with one API
token and some memories about the speaker. Then sends N streamed requests with the
official `openai` client, each one twice in a row: straight to the fake server, and to
Luma's /v1/chat/completions (token auth, speaker, memory retrieval, prompt, the stored
exchange, the relay thread, server-sent events). Prints the median and p95 of both
and of the difference, in the same run.

    .venv/bin/python bench/bench_openai_endpoint.py [--requests 50] [--memories 200]
                                                    [--words 40] [--chunk-delay 0.005]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))

from bench_load import percentile, start_fake, wait_for_port  # noqa: E402

from providers.testing.fakes import free_port  # noqa: E402


def prepare_luma(env: dict[str, str], fake_url: str, memories: int) -> str:
    """Migrate a fresh database, point the settings at the fake, add memories about the
    speaker and everyone; return an API token."""
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = f"""
from django.contrib.auth.models import User
from luma.services import api_token_create, runtime_settings_update
from memories.models import Memory
from memories.services import memories_create_bulk
runtime_settings_update(provider="deepseek", deepseek_api_key="sk-bench",
    deepseek_base_url="{fake_url}/v1", deepseek_model="fake-chat", memory_context_limit=8)
account = User.objects.create_user("streamer")
speaker = User.objects.create_user(f"app:{{account.pk}}:viewer-1", is_active=False)
topics = ["cats", "rhythm games", "ramen", "mountains", "synthwave", "chess", "tea", "rain"]
memories_create_bulk(memories=[
    Memory(content=f"viewer-1 likes {{topics[i % 8]}} number {{i}}", subject_user=speaker,
           subject_name="viewer-1")
    if i % 2 else Memory(content=f"The community's running joke {{i}} is about {{topics[i % 8]}}")
    for i in range({memories})
])
print(api_token_create(user=account, name="bench")[1])
"""
    done = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def first_token_seconds(client: openai.OpenAI, model: str, user: str | None) -> float:
    """Seconds from sending a streamed request to its first text, reading it to the end."""
    extra = {"user": user} if user else {}
    started = time.perf_counter()
    first = None
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Which rhythm games do I like?"}],
        stream=True,
        **extra,
    )
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("the stream had no text")
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--memories", type=int, default=200)
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--chunk-delay", type=float, default=0.005)
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="luma-bench-openai-")
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "LUMA_DATA_DIR": data,
        "DATABASE_URL": f"sqlite:///{data}/luma.sqlite3",
        "LOG_LEVEL": "WARNING",
        "LUMA_RATE_LIMITS_ENABLED": "false",
        "LUMA_VECTOR_WARM_UP": "false",
    }
    env.pop("REDIS_URL", None)
    reply = " ".join(f"token{i}" for i in range(args.words))
    fake, fake_url = start_fake(reply, args.chunk_delay)
    server = None
    try:
        token = prepare_luma(env, fake_url, args.memories)
        server = subprocess.Popen(
            [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port)
        direct = openai.OpenAI(api_key="sk-bench", base_url=f"{fake_url}/v1", max_retries=0)
        luma = openai.OpenAI(api_key=token, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        for _ in range(3):  # warm both: connections, the embedding model, caches
            first_token_seconds(direct, "fake-chat", None)
            first_token_seconds(luma, "luma", "viewer-1")
        straight, through = [], []
        for _ in range(args.requests):
            straight.append(first_token_seconds(direct, "fake-chat", None))
            through.append(first_token_seconds(luma, "luma", "viewer-1"))
    finally:
        for process in (server, fake):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)

    added = [b - a for a, b in zip(straight, through, strict=True)]
    print(
        f"{args.requests} streamed requests each way, {args.memories} memories, reply of "
        f"{args.words} tokens every {args.chunk_delay * 1000:g} ms"
    )
    for label, values in (
        ("provider directly", straight),
        ("through Luma /v1", through),
        ("Luma adds", added),
    ):
        print(
            f"first token, {label:>17}: median {statistics.median(values) * 1000:6.1f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
