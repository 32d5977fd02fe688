"""Browser tests: Playwright driving Debian's Chromium against a live Luma.

The server is a real daphne process (HTTP and WebSockets) on a file SQLite
database of its own, with fake OpenAI and Ollama servers behind it. Data the
tests need is put in through `e2e.seed`, a helper process calling Luma's
services. Logging in happens once; each test gets a fresh browser context
with that session.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from providers.testing.fakes import FakeBehaviour, FakeOllamaServer, FakeOpenAIServer, free_port

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "streamer", "pw-streamer-123"
CHROMIUM = os.environ.get("LUMA_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: sync Playwright and pytest-asyncio break each other
    when browser tests run before async ones in the same session."""
    browser_tests = [item for item in items if item.nodeid.startswith("e2e/")]
    for item in browser_tests:
        item.add_marker(pytest.mark.browser)
        items.remove(item)
    items.extend(browser_tests)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


class LiveLuma:
    """The live server and its seed helper."""

    def __init__(self, url: str, seeder: subprocess.Popen[str]) -> None:
        self.url = url
        self._seeder = seeder

    def seed(self, cmd: str, **arguments: Any) -> Any:
        assert self._seeder.stdin is not None and self._seeder.stdout is not None
        self._seeder.stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
        self._seeder.stdin.flush()
        answer = json.loads(self._seeder.stdout.readline())
        if "error" in answer:
            raise AssertionError(f"seed {cmd} failed: {answer['error']}")
        return answer["ok"]


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the live server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/accounts/login/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the live server did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright() -> Iterator[None]:
    """Sync Playwright runs an event loop in this process, and Django's ORM refuses to
    run beside one; set only while browser tests run (they run last), so no other
    test (or its subprocesses) sees it."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def fake_ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer(FakeBehaviour(models=["llama3.2:latest", "qwen3:4b"])) as server:
        yield server


@pytest.fixture(scope="session")
def live_luma(fake_openai: FakeOpenAIServer) -> Iterator[LiveLuma]:
    data_dir = Path(tempfile.mkdtemp(prefix="luma-e2e-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "e2e.settings",
        "LUMA_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'e2e.sqlite3'}",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "config.asgi:application"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    seeder = subprocess.Popen(
        [sys.executable, "-m", "e2e.seed"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, server, log)
        luma = LiveLuma(url, seeder)
        luma.seed("user", username=USERNAME, password=PASSWORD, staff=True)
        luma.seed("settings", **deepseek_settings(fake_openai))
        yield luma
    finally:
        seeder.terminate()
        server.terminate()
        for process in (seeder, server):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


def deepseek_settings(fake_openai: FakeOpenAIServer) -> dict[str, Any]:
    return {
        "provider": "deepseek",
        "deepseek_api_key": "sk-e2e-secret-key-9876",
        "deepseek_base_url": fake_openai.base_url,
        "deepseek_model": "fake-chat",
        "memory_suggestions_enabled": False,
    }


@pytest.fixture(scope="session")
def base_url(live_luma: LiveLuma) -> str:
    """Playwright's base URL: the live server (replaces pytest-playwright's own fixture)."""
    return live_luma.url


@pytest.fixture(scope="session")
def session_state(browser: Browser, live_luma: LiveLuma) -> dict[str, Any]:
    """Log in once through the login page; every test reuses the session cookie."""
    context = browser.new_context(base_url=live_luma.url)
    page = context.new_page()
    log_in(page)
    state = context.storage_state()
    context.close()
    return state


def log_in(page: Page, username: str = USERNAME, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def logged_in_page(browser: Browser, live_luma: LiveLuma, username: str, **role: bool) -> Page:
    """A new browser session of a new user `username` (`moderator=True`, …: its role),
    logged in through the login page."""
    password = f"pw-{username}-123"
    live_luma.seed("user", username=username, password=password, **role)
    page = browser.new_context(base_url=live_luma.url).new_page()
    log_in(page, username, password)
    return page


@pytest.fixture
def browser_context_args(
    browser_context_args: dict[str, Any], live_luma: LiveLuma, session_state: dict[str, Any]
) -> dict[str, Any]:
    return {**browser_context_args, "base_url": live_luma.url, "storage_state": session_state}


@pytest.fixture(autouse=True)
def fresh_fakes(
    fake_openai: FakeOpenAIServer, fake_ollama: FakeOllamaServer, live_luma: LiveLuma
) -> Iterator[None]:
    """Every test starts with working fake providers and the default settings."""
    fake_openai.behaviour = FakeBehaviour(reply="Hello from the fake model.", chunk_delay=0.01)
    fake_ollama.behaviour = FakeBehaviour(models=["llama3.2:latest", "qwen3:4b"])
    live_luma.seed("settings", **deepseek_settings(fake_openai))
    yield


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """Fail a test on any uncaught script error on the page."""
    errors: list[str] = []
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"script errors on the page: {errors}"
