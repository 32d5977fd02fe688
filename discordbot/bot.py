"""The Discord client: slash commands, suggestion buttons and the suggestion poster.

Thin wiring: each command calls a handler in `discordbot.handlers`.
"""

import logging
import re
from typing import Any

import discord
from channels.db import database_sync_to_async
from discord import app_commands
from discord.ext import tasks

from discordbot import handlers
from discordbot.persona import PERSONA_POLL_SECONDS, identity_apply, persona_identity
from discordbot.services import suggestion_mark_posted, suggestions_to_post

logger = logging.getLogger(__name__)

SUGGESTION_POLL_SECONDS = 30
# View channels, send messages (and in threads), embed links, read message history.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"^luma:(?P<action>approve|reject):(?P<id>\d+)$",
):
    """Approve / Reject on a suggestion post; the custom id carries the memory id,
    so the buttons keep working after the bot restarts."""

    def __init__(self, memory_id: int, approve: bool) -> None:
        action = "approve" if approve else "reject"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"luma:{action}:{memory_id}",
            )
        )
        self.memory_id = memory_id
        self.approve = approve

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> "ReviewButton":
        return cls(int(match["id"]), match["action"] == "approve")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handlers.handle_review_button(interaction, self.memory_id, approve=self.approve)


def review_view(memory_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(memory_id, approve=True))
    view.add_item(ReviewButton(memory_id, approve=False))
    return view


class LumaBot(discord.Client):
    def __init__(self, *, guild_id: str = "") -> None:
        # Slash commands and buttons need no privileged intent (no message content, no members).
        # Model output and memories are not trusted to ping anyone (@everyone included).
        super().__init__(
            intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none()
        )
        self.tree = app_commands.CommandTree(self)
        self.guild_id = guild_id
        # What each server was last given of the persona (`DiscordIdentity.key`).
        self.persona_applied: dict[int, str] = {}
        register_commands(self.tree)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ReviewButton)
        await self.sync_commands()
        self.post_suggestions.start()
        self.sync_persona.start()

    async def sync_commands(self) -> None:
        if self.guild_id:
            # A guild's commands show up at once; global ones can take a while.
            guild = discord.Object(id=int(self.guild_id))
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            logger.info("Synced %d slash commands to server %s", len(synced), self.guild_id)
        else:
            synced = await self.tree.sync()
            logger.info("Synced %d slash commands globally", len(synced))

    async def on_ready(self) -> None:
        assert self.user is not None
        logger.info(
            "Connected to Discord as %s (id %s) in %d server(s). Invite link: %s",
            self.user,
            self.user.id,
            len(self.guilds),
            discord.utils.oauth_url(
                self.user.id, permissions=BOT_PERMISSIONS, scopes=("bot", "applications.commands")
            ),
        )

    async def on_resumed(self) -> None:
        logger.info("Reconnected to Discord")

    async def close(self) -> None:
        logger.info("Disconnecting from Discord")
        self.post_suggestions.cancel()
        self.sync_persona.cancel()
        await super().close()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.persona_show()

    @tasks.loop(seconds=PERSONA_POLL_SECONDS)
    async def sync_persona(self) -> None:
        try:
            await self.persona_show()
        except Exception:
            logger.exception("Showing the persona on Discord failed; trying again later")

    @sync_persona.before_loop
    async def _wait_until_ready_for_persona(self) -> None:
        await self.wait_until_ready()

    async def persona_show(self) -> None:
        """Give every server the persona's name and avatar, once per change of them."""
        identity = await database_sync_to_async(persona_identity)()
        for guild in self.guilds:
            if self.persona_applied.get(guild.id) == identity.key or guild.me is None:
                continue
            await identity_apply(guild, identity)
            self.persona_applied[guild.id] = identity.key  # refused: wait for a change

    @tasks.loop(seconds=SUGGESTION_POLL_SECONDS)
    async def post_suggestions(self) -> None:
        try:
            await self.post_new_suggestions()
        except Exception:
            # A missing channel or permission must not end the loop: the operator
            # sees the error in the log and the next round tries again.
            logger.exception("Posting memory suggestions failed; trying again later")

    @post_suggestions.before_loop
    async def _wait_until_ready(self) -> None:
        await self.wait_until_ready()

    async def post_new_suggestions(self) -> None:
        """Post pending AI suggestions (each once) with Approve / Reject buttons."""
        channel_id, memories = await database_sync_to_async(suggestions_to_post)()
        if not memories:
            return
        channel = self.get_channel(int(channel_id)) or await self.fetch_channel(int(channel_id))
        for memory in memories:
            message = await channel.send(  # type: ignore[union-attr]  # a category would fail here
                handlers.suggestion_text(memory), view=review_view(memory.pk)
            )
            await database_sync_to_async(suggestion_mark_posted)(
                memory_id=memory.pk, channel_id=channel_id, message_id=str(message.id)
            )
            logger.info("Posted memory suggestion %s for review", memory.pk)


def register_commands(tree: app_commands.CommandTree[Any]) -> None:
    @tree.command(name="chat", description="Talk with the persona.")
    @app_commands.describe(message="What you want to say")
    async def chat(
        interaction: discord.Interaction[Any], message: app_commands.Range[str, 1, 4000]
    ) -> None:
        await handlers.handle_chat(interaction, message)

    @tree.command(name="remember", description="Tell the persona something to remember about you.")
    @app_commands.describe(
        text="The fact to remember", about_everyone="Moderators: remember it for everyone"
    )
    async def remember(
        interaction: discord.Interaction[Any],
        text: app_commands.Range[str, 1, 2000],
        about_everyone: bool = False,
    ) -> None:
        await handlers.handle_remember(interaction, text, about_everyone=about_everyone)

    @tree.command(name="memories", description="What the persona remembers about you.")
    @app_commands.describe(query="Only memories containing this")
    async def memories(interaction: discord.Interaction[Any], query: str = "") -> None:
        await handlers.handle_memories(interaction, query)

    @tree.command(name="forget", description="Make the persona forget one of your memories.")
    @app_commands.describe(id="The memory's number, from /memories")
    async def forget(interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]) -> None:
        await handlers.handle_forget(interaction, id)
