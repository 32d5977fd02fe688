"""The persona's name and avatar on Discord: the bot's nickname and avatar in each server.

Discord shows every message with its author's name and picture, so the bot member itself
becomes the persona: its server nickname (where the bot has Change Nickname) and its
server avatar (Discord's "modify current member"). Each server is brought up to date
when the bot joins it and whenever the persona changes (checked every
`PERSONA_POLL_SECONDS`); a server that refuses keeps what it had, and is tried again
only after the persona changes again.
"""

import logging
from dataclasses import dataclass
from typing import Any

import discord
from channels.db import database_sync_to_async

from persona.selectors import persona_avatar_png, persona_get

logger = logging.getLogger(__name__)

PERSONA_POLL_SECONDS = 60
NICKNAME_MAX_CHARS = 32  # Discord's limit


@dataclass(frozen=True)
class DiscordIdentity:
    name: str
    avatar_version: str  # "" for the default avatar

    @property
    def key(self) -> str:
        return f"{self.name}\0{self.avatar_version}"


def persona_identity() -> DiscordIdentity:
    """The persona as Discord shows it (sync: call through `database_sync_to_async`);
    cheap, read every minute: the avatar's bytes are read only to send them."""
    persona = persona_get()
    return DiscordIdentity(
        name=persona.name[:NICKNAME_MAX_CHARS].strip(), avatar_version=persona.avatar_version
    )


async def identity_apply(guild: Any, identity: DiscordIdentity) -> bool:
    """Make the bot's member in `guild` look like the persona; whether it all took."""
    me = guild.me
    took = True
    if me.nick != identity.name and me.display_name != identity.name:
        if me.guild_permissions.change_nickname:
            took &= await _edit(guild, me, "nickname", nick=identity.name)
        else:
            logger.info("No Change Nickname permission in %s: the bot keeps its name", guild)
            took = False
    avatar = await database_sync_to_async(persona_avatar_png)()
    took &= await _edit(guild, me, "avatar", avatar=avatar)
    return took


async def _edit(guild: Any, me: Any, what: str, **change: Any) -> bool:
    try:
        await me.edit(**change, reason="Luma: the persona changed")
    except (discord.HTTPException, ValueError) as error:
        logger.info("Discord refused the persona's %s in %s: %s", what, guild, error)
        return False
    return True
