"""The persona's name and avatar on Discord: the bot member's nickname and server avatar."""

import inspect
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from asgiref.sync import sync_to_async

from discordbot.bot import LumaBot
from persona.selectors import default_avatar_png
from persona.services import persona_avatar_set, persona_update
from persona.tests.cards import png


@dataclass
class FakeMe:
    """The bot's own member in a server: records what the bot asked Discord to change."""

    nick: str | None = None
    display_name: str = "LumaBot"
    can_rename: bool = True
    refuse_avatar: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def guild_permissions(self) -> discord.Permissions:
        return discord.Permissions(change_nickname=self.can_rename)

    async def edit(self, *, nick: Any = None, avatar: Any = None, reason: Any = None) -> None:
        if avatar is not None and self.refuse_avatar:
            raise discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "no")
        change = {"nick": nick} if nick is not None else {"avatar": avatar}
        self.edits.append(change)
        if nick is not None:
            self.nick = self.display_name = nick


@dataclass
class FakeGuild:
    id: int
    me: FakeMe

    def __str__(self) -> str:
        return f"server {self.id}"


@pytest.fixture
def bot_in(monkeypatch):
    def make(*guilds: FakeGuild) -> LumaBot:
        # The gateway's list of servers is the edge of the world here.
        monkeypatch.setattr(LumaBot, "guilds", property(lambda self: list(guilds)))
        return LumaBot()

    return make


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_each_server_shows_the_persona_name_and_avatar_once_per_change(bot_in):
    first, second = FakeGuild(1, FakeMe()), FakeGuild(2, FakeMe(nick="Old"))
    bot = bot_in(first, second)
    await sync_to_async(persona_update)(name="Mika Starlight")

    await bot.persona_show()
    await bot.persona_show()  # nothing changed: nothing sent again

    for guild in (first, second):
        assert guild.me.edits == [{"nick": "Mika Starlight"}, {"avatar": default_avatar_png()}]
    avatar = png(colour=(5, 6, 7))
    await sync_to_async(persona_avatar_set)(data=avatar)
    await bot.persona_show()
    assert first.me.edits[2:] == [{"avatar": first.me.edits[2]["avatar"]}]
    assert first.me.edits[2]["avatar"].startswith(b"\x89PNG")
    assert first.me.edits[2]["avatar"] != default_avatar_png()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_server_that_refuses_keeps_its_name_and_the_others_still_change(bot_in):
    no_rights = FakeGuild(1, FakeMe(can_rename=False, refuse_avatar=True))
    fine = FakeGuild(2, FakeMe())
    bot = bot_in(no_rights, fine)
    await sync_to_async(persona_update)(name="A very long persona name that Discord cuts")

    await bot.persona_show()

    assert no_rights.me.edits == []
    assert fine.me.edits[0] == {"nick": "A very long persona name that Di"}  # 32 characters


def test_the_fake_member_edit_takes_discord_pys_arguments():
    real = inspect.signature(discord.Member.edit).parameters
    for name, parameter in inspect.signature(FakeMe.edit).parameters.items():
        assert name in real and parameter.kind == real[name].kind
