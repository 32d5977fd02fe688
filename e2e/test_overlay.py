"""The OBS overlay in a real browser, fed by the Twitch bot.

A stack of its own: Redis (the channel layer the web server and the bot share, as in
production), a daphne server and `manage.py runtwitch` against a local server speaking
Twitch's IRC dialect. A viewer asks in Twitch chat; the overlay shows the question and
the answer as it streams. A wrong token shows nothing. The settings page's "On stream"
section shows and rotates the overlay's address.
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
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveLuma
from providers.testing.fakes import FakeBehaviour, FakeOpenAIServer, free_port
from twitchbot.tests.fake_twitch import FakeTwitchServer

ROOT = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")
ANSWER = (
    "Great question, Alice! The next stream is on Friday at eight, and we are playing "
    "the new puzzle game together with the whole chat."
)

SETUP = """
import django, json, os
django.setup()
from luma.services import runtime_settings_get
from overlay.services import overlay_token_get
row = runtime_settings_get()
row.provider = "deepseek"
row.deepseek_api_key = "sk-e2e-overlay-1234"
row.deepseek_base_url = os.environ["FAKE_OPENAI"]
row.deepseek_model = "fake-chat"
row.twitch_viewer_cooldown = 0
row.twitch_settings_seeded = True
row.save()
print(json.dumps({"token": overlay_token_get()}))
"""


@dataclass
class Stream:
    url: str
    token: str
    twitch: FakeTwitchServer
    model: FakeOpenAIServer


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  # our own http:// server
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def stream() -> Iterator[Stream]:
    if REDIS is None:
        pytest.fail("redis-server not found: apt-get install -y redis-server")
    data_dir = Path(tempfile.mkdtemp(prefix="luma-e2e-overlay-"))
    processes: list[subprocess.Popen[bytes]] = []
    redis_port = free_port()
    processes.append(
        subprocess.Popen(  # noqa: S603  # our own commands
            [
                REDIS,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    with FakeOpenAIServer(FakeBehaviour(reply=ANSWER, chunk_delay=0.08)) as model, \
            FakeTwitchServer() as twitch:  # fmt: skip
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "e2e.settings",
            "LUMA_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'overlay.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "FAKE_OPENAI": model.base_url,
            "TWITCH_TOKEN": "good-token",
            "TWITCH_CHANNELS": "streamer",
            "TWITCH_IRC_URL": twitch.url,
            "TWITCH_BOT_NAME": "lumabot",
            "PYTHONUNBUFFERED": "1",
        }
        try:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT, env=env, check=True,
            )  # fmt: skip
            setup = subprocess.run(  # noqa: S603  # our own commands
                [sys.executable, "-c", SETUP],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            token = json.loads(setup.stdout.strip().splitlines()[-1])["token"]
            port = free_port()
            log = data_dir / "server.log"
            with log.open("wb") as out:
                server = subprocess.Popen(  # noqa: S603  # our own commands
                    [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                     "config.asgi:application"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            processes.append(server)
            with (data_dir / "bot.log").open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "runtwitch"],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            url = f"http://127.0.0.1:{port}"
            _wait_for(f"{url}/accounts/login/", server, log)
            twitch.wait_for(lambda: any(line.startswith("JOIN") for line in twitch.lines), 30)
            yield Stream(url, token, twitch, model)
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            shutil.rmtree(data_dir, ignore_errors=True)


def overlay_page(browser: Browser, stream: Stream, token: str) -> Page:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{stream.url}/overlay/?token={token}")
    return page


def test_a_twitch_question_and_its_streamed_answer_appear_on_the_overlay(
    browser: Browser, stream: Stream
) -> None:
    page = overlay_page(browser, stream, stream.token)
    page.wait_for_timeout(800)  # the socket opens
    expect(page.locator("#overlay")).to_be_hidden()
    stream.twitch.say("streamer", "!ask when is the next stream?", login="alice",
                      display_name="Alice", user_id="1001")  # fmt: skip
    expect(page.locator("#overlay")).to_be_visible()
    expect(page.locator("#overlay-asker")).to_have_text("Alice")
    expect(page.locator("#overlay-question")).to_have_text("when is the next stream?")
    # Streaming: part of the answer shows before the whole of it.
    page.wait_for_function(
        "t => { const s = document.getElementById('overlay-answer').textContent;"
        " return s.length > 0 && s.length < t.length && t.startsWith(s); }",
        arg=ANSWER,
    )
    expect(page.locator("#overlay-answer")).to_have_text(ANSWER, timeout=15_000)
    # The persona's face loads without a login (OBS has none).
    expect(page.locator("#overlay-avatar")).to_be_visible()
    page.wait_for_function("document.getElementById('overlay-avatar').naturalWidth > 0")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgba(0, 0, 0, 0)", "transparent")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 28  # readable at 1080p
    stream.twitch.wait_for(lambda: stream.twitch.messages_in("streamer"), 15)
    assert stream.twitch.messages_in("streamer")[0].text == ANSWER
    page.context.close()


def test_a_wrong_token_shows_nothing(browser: Browser, stream: Stream) -> None:
    page = overlay_page(browser, stream, "not-the-token")
    page.wait_for_timeout(800)
    stream.twitch.say("streamer", "!ask is anyone watching?", login="bob", user_id="1002")
    stream.twitch.wait_for(lambda: len(stream.twitch.messages_in("streamer")) >= 2, 15)
    page.wait_for_timeout(500)
    expect(page.locator("#overlay")).to_be_hidden()
    assert page.locator("body").inner_text().strip() == ""
    page.context.close()


def test_the_owner_sees_and_rotates_the_overlay_address(page: Page, live_luma: LiveLuma) -> None:
    page.goto("/settings/")
    address = page.get_by_label("Overlay address")
    if page.get_by_role("button", name="Create").is_visible():
        page.get_by_role("button", name="Create").click()
    expect(address).not_to_have_value("")
    before = address.input_value()
    assert before.startswith(f"{live_luma.url}/overlay/?token=")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate").click()
    # (Create, above, already said "New address made": wait for the new address itself.)
    expect(address).not_to_have_value(before)
    expect(page.locator("#overlay-status")).to_contain_text("New address made")
    page.reload()
    assert page.get_by_label("Overlay address").input_value() != before


def test_the_owner_saves_the_blocklist_and_a_bad_pattern_keeps_what_was_typed(
    page: Page,
) -> None:
    page.goto("/settings/")
    blocklist = page.get_by_label("Blocked words and patterns")
    blocklist.fill("badword\n/(unclosed/")
    page.get_by_role("button", name="Save stream settings").click()
    expect(page.locator("#field-stream_blocklist .field-error")).to_contain_text("Line 2")
    expect(blocklist).to_have_value("badword\n/(unclosed/")
    blocklist.fill("badword\n/fr[e3]+ v-?bucks/")
    page.get_by_role("button", name="Save stream settings").click()
    expect(page.locator("#on-stream-status")).to_have_text("Stream settings saved.")
    page.reload()
    expect(page.get_by_label("Blocked words and patterns")).to_have_value(
        "badword\n/fr[e3]+ v-?bucks/"
    )
