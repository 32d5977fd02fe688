import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from luma.services import runtime_settings_get
from twitchbot.bot import TwitchBot
from twitchbot.tests.fake_twitch import FakeTwitchServer

CHANNEL = "streamer"


@pytest.fixture
def twitch() -> Iterator[FakeTwitchServer]:
    with FakeTwitchServer() as server:
        yield server


class RunningBot:
    """A TwitchBot running on a thread of its own, as `runtwitch` runs it."""

    def __init__(self, bot: TwitchBot) -> None:
        self.bot = bot
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self.bot.run())
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        if self.thread.is_alive():
            self.bot.stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the bot did not stop"


@pytest.fixture
def start_bot(twitch: FakeTwitchServer) -> Iterator[Any]:
    running: list[RunningBot] = []

    def start(**options: Any) -> RunningBot:
        defaults: dict[str, Any] = {
            "token": "good-token",
            "channels": [CHANNEL],
            "url": twitch.url,
            "nick": "lumabot",
            "reconnect_delays": (0.1, 0.2),
            "rules_refresh": 0.2,
        }
        bot = RunningBot(TwitchBot(**{**defaults, **options}))
        running.append(bot)
        return bot

    yield start
    for bot in running:
        bot.stop()


@pytest.fixture
def stream_rules(db, use_deepseek):
    """Runtime settings for the tests: no cooldown, a generous rate."""
    row = runtime_settings_get()
    row.twitch_viewer_cooldown = 0
    row.twitch_channel_rate = 60
    row.twitch_settings_seeded = True
    row.save()
    return row
