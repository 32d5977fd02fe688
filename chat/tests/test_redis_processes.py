"""Two Luma server processes sharing Redis: a chat in one is heard in the other.

Starts two daphne processes on loopback with REDIS_URL set (the Redis channel
layer) and one SQLite file, opens a WebSocket to each as the same user, chats
through the first and expects the second to hear about it.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import websockets

from providers.testing.fakes import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")

pytestmark = pytest.mark.slow_server


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


@pytest.fixture
def luma_env(tmp_path, openai_server) -> dict[str, str]:
    if not redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "two-process-test-" + "k" * 40,
        "LUMA_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/luma.sqlite3",
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "LUMA_EMBEDDING_SOURCE": "none",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    script = f"""
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from luma.services import runtime_settings_update
runtime_settings_update(provider="deepseek", deepseek_api_key="sk-two",
    deepseek_base_url="{openai_server.base_url}", deepseek_model="fake-chat")
user = User.objects.create_user("twin")
session = SessionStore()
session.update({{"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend"}})
session.create()
print(session.session_key)
"""
    done = subprocess.run(
        [*manage, "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    env["SESSION_KEY"] = done.stdout.strip().splitlines()[-1]
    return env


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


async def chat_across(port_a: int, port_b: int, session_key: str) -> tuple[list[dict], dict]:
    def headers(port: int) -> dict[str, str]:
        return {"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"}

    async with (
        websockets.connect(
            f"ws://127.0.0.1:{port_a}/ws/chat/", additional_headers=headers(port_a)
        ) as a,
        websockets.connect(
            f"ws://127.0.0.1:{port_b}/ws/chat/", additional_headers=headers(port_b)
        ) as b,
    ):
        await a.send(json.dumps({"type": "send", "text": "hello from server A"}))
        events = []
        while True:
            event = json.loads(await asyncio.wait_for(a.recv(), 20))
            events.append(event)
            if event["type"] == "idle":
                break
        heard = json.loads(await asyncio.wait_for(b.recv(), 10))
    return events, heard


def test_a_conversation_on_one_process_is_heard_on_the_other(luma_env):
    (server_a, port_a), (server_b, port_b) = start_server(luma_env), start_server(luma_env)
    try:
        events, heard = asyncio.run(chat_across(port_a, port_b, luma_env["SESSION_KEY"]))
    finally:
        for server in (server_a, server_b):
            server.terminate()
            server.wait(timeout=10)
    done = next(e for e in events if e["type"] == "done")
    assert heard == {"type": "conversation_updated", "conversation_id": done["conversation_id"]}
