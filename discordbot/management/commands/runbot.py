import asyncio
import contextlib
import logging
import signal
from typing import Any

import aiohttp
import discord
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from discordbot.bot import LumaBot
from discordbot.services import bot_settings_get
from memories.embeddings import vector_index_warm_up

logger = logging.getLogger("discordbot")


class Command(BaseCommand):
    help = "Run the Discord bot (token from DISCORD_TOKEN or --token). Stop it with Ctrl+C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", default="", help="The bot token (default: DISCORD_TOKEN).")
        parser.add_argument(
            "--guild",
            default=settings.DISCORD_GUILD_ID,
            help="Sync the slash commands to this server id only, where they appear at once "
            "(default: DISCORD_GUILD_ID; empty: globally).",
        )

    def handle(self, *args: Any, token: str, guild: str, **options: Any) -> None:
        token = (token or settings.DISCORD_TOKEN).strip()
        if not token:
            raise CommandError(
                "No Discord bot token: set DISCORD_TOKEN (see README, 'Discord bot') "
                "or pass --token."
            )
        if guild and not guild.isdigit():
            raise CommandError(f"The server id must be a number, not {guild!r}.")
        try:
            moderation = bot_settings_get()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        logger.info(
            "Starting the Discord bot (suggestions go to channel %s)",
            moderation.moderation_channel_id or "none: not posted",
        )
        try:
            asyncio.run(run_bot(LumaBot(guild_id=guild), token))
        except discord.LoginFailure:
            raise CommandError(
                "Discord rejected the bot token: check DISCORD_TOKEN (Developer Portal, "
                "your application, Bot, Reset Token)."
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise CommandError(
                "Discord refused an intent this bot asked for; see README, 'Discord bot'."
            ) from None
        except discord.HTTPException as error:
            raise CommandError(f"Discord refused to let the bot log in: {error}") from None
        except (aiohttp.ClientError, OSError) as error:
            raise CommandError(f"Could not reach Discord: {error}") from None
        logger.info("The Discord bot stopped")


async def run_bot(bot: LumaBot, token: str) -> None:
    """Log in and stay connected (discord.py reconnects by itself) until SIGINT or SIGTERM;
    `bot.start` in two steps, so that the vector index warms up only once logged in."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signum, _stop, bot, signal.Signals(signum).name)
    async with bot:
        await bot.login(token)
        # Logged in: commands come next. Vectors load in the background meanwhile.
        if settings.LUMA_VECTOR_WARM_UP:
            vector_index_warm_up()
        await bot.connect(reconnect=True)


def _stop(bot: LumaBot, signame: str) -> None:
    logger.info("%s received: disconnecting from Discord", signame)
    asyncio.get_running_loop().create_task(bot.close())
