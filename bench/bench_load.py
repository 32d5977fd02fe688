"""Load: 50 viewers chatting at once over WebSockets against a streaming fake provider.

Starts, each in its own process: a fake OpenAI-compatible server, and Luma
under daphne on a fresh SQLite database. Then opens N WebSockets at once and,
once all are open (viewers on the chat page), sends one message on each, and
prints replies completed, tokens lost, errors, the time to first token (TTFT)
Luma adds on top of the provider, full-reply time, and the CPU time Luma's
server process spent per reply.

The provider's own TTFT is measured the same way (N concurrent streams straight
to the fake server with the `openai` client); "added" compares the two.

    .venv/bin/python bench/bench_load.py [--clients 50] [--words 60] [--chunk-delay 0.01]
                                         [--spread SECONDS] [--rounds N]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai
import websockets

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_fake(reply: str, chunk_delay: float) -> tuple[subprocess.Popen, str]:
    fake = subprocess.Popen(
        [
            PY,
            "-m",
            "providers.testing.fakes",
            "openai",
            "--reply",
            reply,
            "--chunk-delay",
            f"{chunk_delay}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return fake, fake.stdout.readline().strip()


def prepare_luma(env: dict[str, str], fake_url: str, users: int) -> list[str]:
    """Migrate a fresh database, point the settings at the fake, return one session per user."""
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = f"""
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from luma.services import runtime_settings_update
runtime_settings_update(provider="deepseek", deepseek_api_key="sk-bench",
    deepseek_base_url="{fake_url}/v1", deepseek_model="fake-chat", memory_context_limit=8)
for i in range({users}):
    user = User.objects.create_user(f"viewer{{i}}")
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    print(session.session_key)
"""
    done = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-users:]


async def one_chat(
    port: int, cookie: str, text: str, delay: float = 0.0, opened: asyncio.Barrier | None = None
) -> dict:
    """One viewer: open the chat socket, wait until every viewer's socket is open
    (`opened`: they are on the chat page), then `delay` seconds, send, read the reply."""
    first = None
    tokens: list[str] = []
    result: dict = {"error": None}
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"}
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/", additional_headers=headers
    ) as socket:
        if opened is not None:
            await opened.wait()
        await asyncio.sleep(delay)
        sent = time.perf_counter()
        await socket.send(json.dumps({"type": "send", "text": text}))
        async for raw in socket:
            event = json.loads(raw)
            if event["type"] == "token":
                first = first or time.perf_counter()
                tokens.append(event["text"])
            elif event["type"] == "done":
                result["final"] = event["content"]
            elif event["type"] == "error":
                result["error"] = event["message"]
            elif event["type"] == "idle":
                break
    result.update(
        ttft=(first - sent) if first else None,
        total=time.perf_counter() - sent,
        streamed="".join(tokens),
    )
    return result


async def direct_ttft(base_url: str, clients: int, spread: float) -> list[float]:
    """The provider's own TTFT, with the same number of streams on the same schedule."""
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url + "/v1", max_retries=0)

    async def one(delay: float) -> float:
        await asyncio.sleep(delay)
        sent = time.perf_counter()
        stream = await client.chat.completions.create(
            model="fake-chat", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        first = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and first is None:
                first = time.perf_counter()
        return (first or time.perf_counter()) - sent

    return list(await asyncio.gather(*(one(spread * i / clients) for i in range(clients))))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc; fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"Luma did not start listening on port {port}")


def free_port() -> int:
    sys.path.insert(0, str(ROOT))
    from providers.testing.fakes import free_port as pick

    return pick()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--chunk-delay", type=float, default=0.01)
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="seconds over which the messages are sent, evenly (all sockets open at once); "
        "0: every viewer sends at the same instant",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="send the messages this many times over"
    )
    args = parser.parse_args()
    reply = " ".join(f"token{i}" for i in range(args.words))

    data = tempfile.mkdtemp(prefix="luma-bench-load-")
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "LUMA_DATA_DIR": data,
        "DATABASE_URL": f"sqlite:///{data}/luma.sqlite3",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    fake, fake_url = start_fake(reply, args.chunk_delay)
    server = None
    try:
        cookies = prepare_luma(env, fake_url, args.clients + 1)
        server = subprocess.Popen(
            [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port)
        baseline = asyncio.run(direct_ttft(fake_url, args.clients, args.spread))
        # One chat first: a server that has answered once is the steady state we measure.
        warm = asyncio.run(one_chat(port, cookies[-1], "warming up"))
        print(f"warm-up chat: first token after {warm['ttft'] * 1000:.0f} ms")

        async def everyone() -> list[dict]:
            opened = asyncio.Barrier(args.clients)
            return await asyncio.gather(
                *(
                    one_chat(
                        port,
                        cookies[i],
                        f"hello from chat {i}",
                        args.spread * i / args.clients,
                        opened,
                    )
                    for i in range(args.clients)
                ),
                return_exceptions=True,
            )

        print(f"Luma's server process: pid {server.pid}", flush=True)
        wall = time.perf_counter()
        cpu = cpu_seconds(server.pid)
        rounds = [asyncio.run(everyone()) for _ in range(args.rounds)]
        results = [r for round_ in rounds for r in round_]
        wall = (time.perf_counter() - wall) / args.rounds
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        for process in (server, fake):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)

    crashed = [r for r in results if isinstance(r, BaseException)]
    ok = [r for r in results if isinstance(r, dict) and not r["error"] and r.get("final")]
    errors = len(crashed) + sum(1 for r in results if isinstance(r, dict) and r["error"])
    lost = sum(
        len(reply.split()) - len(r["streamed"].split()) for r in results if isinstance(r, dict)
    ) + len(crashed) * len(reply.split())
    ttfts = [r["ttft"] for r in ok if r["ttft"] is not None]
    totals = [r["total"] for r in ok]
    print(
        f"clients: {args.clients}, reply: {args.words} tokens, chunk delay {args.chunk_delay}s, "
        f"messages sent over {args.spread:g}s, {args.rounds} round(s)"
    )
    print(f"replies completed: {len(ok)}/{len(results)} in {wall:.2f}s wall a round")
    print(f"Luma's CPU per reply: {cpu * 1000 / max(1, len(ok)):.1f} ms (server process)")
    print(f"tokens lost: {lost}")
    messages = [r["error"] for r in results if isinstance(r, dict) and r["error"]]
    first_error = repr(crashed[0]) if crashed else (messages[0] if messages else "")
    print(f"errors: {errors}" + (f" (first: {first_error})" if first_error else ""))
    if ttfts:
        base50, base95 = percentile(baseline, 0.5), percentile(baseline, 0.95)
        p50, p95 = percentile(ttfts, 0.5), percentile(ttfts, 0.95)
        print(f"provider TTFT (direct): p50 {base50 * 1000:.1f} ms, p95 {base95 * 1000:.1f} ms")
        print(f"Luma TTFT: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
        print(f"added TTFT: p50 {(p50 - base50) * 1000:.1f} ms, p95 {(p95 - base95) * 1000:.1f} ms")
        if args.rounds > 1:
            each = [
                percentile([r["ttft"] for r in round_ if isinstance(r, dict) and r["ttft"]], 0.95)
                for round_ in rounds
            ]
            print("Luma TTFT p95 by round: " + ", ".join(f"{v * 1000:.0f} ms" for v in each))
        p50_total, p95_total = statistics.median(totals), percentile(totals, 0.95)
        print(f"full reply: p50 {p50_total:.2f} s, p95 {p95_total:.2f} s")


if __name__ == "__main__":
    main()
