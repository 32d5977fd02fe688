import asyncio
import contextlib
import logging
import signal
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from luma.errors import LumaError
from memories.embeddings import vector_index_warm_up
from twitchbot.bot import TwitchBot, TwitchLoginFailed
from twitchbot.protocol import InvalidTwitchUrl
from twitchbot.services import twitch_rules_get

logger = logging.getLogger("twitchbot")


class Command(BaseCommand):
    help = (
        "Run the Twitch chat bot (token from TWITCH_TOKEN, channels from TWITCH_CHANNELS). "
        "Stop it with Ctrl+C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", default="", help="The bot's OAuth token (TWITCH_TOKEN).")
        parser.add_argument(
            "--channels", default="", help="Channels to join, comma separated (TWITCH_CHANNELS)."
        )
        parser.add_argument("--url", default="", help="The chat server (TWITCH_IRC_URL).")
        parser.add_argument("--nick", default="", help="The bot account's login (TWITCH_BOT_NAME).")

    def handle(self, *args: Any, token: str, channels: str, url: str, nick: str, **_: Any) -> None:
        token = (token or settings.TWITCH_TOKEN).strip()
        if not token:
            raise CommandError(
                "No Twitch token: set TWITCH_TOKEN to the bot account's OAuth token "
                "(see README, 'Twitch chat') or pass --token."
            )
        joined = [c for c in channels.split(",") if c.strip()] or settings.TWITCH_CHANNELS
        if not joined:
            raise CommandError("No channel to join: set TWITCH_CHANNELS (comma separated).")
        try:
            bot = TwitchBot(
                token=token,
                channels=joined,
                url=url or settings.TWITCH_IRC_URL,
                nick=nick or settings.TWITCH_BOT_NAME,
            )
            twitch_rules_get()  # a bad TWITCH_* seed is a clear line here, not mid-stream
        except InvalidTwitchUrl as error:
            raise CommandError(str(error)) from None
        except (ImproperlyConfigured, LumaError) as error:
            raise CommandError(str(error)) from None
        try:
            asyncio.run(run_bot(bot))
        except TwitchLoginFailed as error:
            raise CommandError(
                f"Twitch refused the bot's login ({error}): check TWITCH_TOKEN (an OAuth user "
                "token of the bot account with the chat:read and chat:edit scopes) and "
                "TWITCH_BOT_NAME (that account's login)."
            ) from None
        logger.info("The Twitch bot stopped")


async def run_bot(bot: TwitchBot) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signum, bot.stop)
    if settings.LUMA_VECTOR_WARM_UP:
        await database_sync_to_async(vector_index_warm_up)()
    await bot.run()
