import inspect

import discord
import pytest
from asgiref.sync import sync_to_async

from discordbot.bot import LumaBot, ReviewButton
from discordbot.models import PostedSuggestion
from discordbot.tests import fakes
from discordbot.tests.fakes import FakeChannel
from luma.services import runtime_settings_update
from memories.models import MemorySource
from memories.services import memory_create


def test_the_bot_has_its_four_slash_commands():
    bot = LumaBot()
    assert sorted(command.name for command in bot.tree.get_commands()) == [
        "chat",
        "forget",
        "memories",
        "remember",
    ]
    assert bot.allowed_mentions.everyone is False  # a reply can never ping @everyone
    assert bot.allowed_mentions.roles is False


@sync_to_async
def make_suggestion(content: str):
    return memory_create(content=content, source=MemorySource.AI_SUGGESTED, subject_name="Alice")


@pytest.fixture
def moderation_channel(monkeypatch) -> tuple[LumaBot, FakeChannel]:
    bot = LumaBot()
    channel = FakeChannel(id=777, name="mods")
    # Discord's channel cache is the edge of the world here.
    monkeypatch.setattr(
        bot, "get_channel", lambda channel_id: channel if channel_id == 777 else None
    )
    return bot, channel


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_new_suggestions_are_posted_once_with_approve_and_reject_buttons(
    bot_settings, moderation_channel
):
    bot, channel = moderation_channel
    await sync_to_async(runtime_settings_update)(memory_suggestions_enabled=True)
    first = await make_suggestion("Alice is learning Japanese.")
    await sync_to_async(memory_create)(content="A manual memory is not a suggestion.")

    await bot.post_suggestions()
    second = await make_suggestion("Alice has a dog named Pixel.")
    await bot.post_suggestions()

    assert len(channel.sent) == 2
    assert f"Memory suggestion #{first.pk}" in channel.sent[0].content
    assert "Alice is learning Japanese." in channel.sent[0].content
    assert [item.custom_id for item in channel.sent[1].view.children] == [
        f"luma:approve:{second.pk}",
        f"luma:reject:{second.pk}",
    ]
    assert await sync_to_async(PostedSuggestion.objects.count)() == 2


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_nothing_is_posted_while_suggestions_are_off(bot_settings, moderation_channel):
    bot, channel = moderation_channel
    await make_suggestion("Alice is learning Japanese.")

    await bot.post_suggestions()

    assert channel.sent == []


@pytest.mark.asyncio
async def test_a_button_is_rebuilt_from_its_custom_id_after_a_restart():
    match = ReviewButton.__discord_ui_compiled_template__.match("luma:reject:42")
    button = await ReviewButton.from_custom_id(None, None, match)
    assert (button.memory_id, button.approve) == (42, False)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_failure_to_post_is_logged_and_the_loop_goes_on(
    bot_settings, moderation_channel, caplog
):
    bot, channel = moderation_channel
    await sync_to_async(runtime_settings_update)(memory_suggestions_enabled=True)
    await make_suggestion("Alice is learning Japanese.")

    async def forbidden(content, *, view=None):
        raise discord.Forbidden(FakeHTTPResponse(403), "Missing Access")

    channel.send = forbidden
    await bot.post_suggestions()

    assert "Posting memory suggestions failed" in caplog.text
    assert await sync_to_async(PostedSuggestion.objects.count)() == 0  # retried next round


class FakeHTTPResponse:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Forbidden"


@pytest.mark.asyncio
@pytest.mark.parametrize("guild_id", ["", "4321"])
async def test_the_slash_commands_are_synced_at_start(monkeypatch, guild_id):
    synced: list[tuple[str, list[str]]] = []

    # Discord's HTTP API is the edge: record what would be registered there.
    async def upsert_global(self, application_id, payload):
        synced.append(("global", sorted(command["name"] for command in payload)))
        return []

    async def upsert_guild(self, application_id, guild, payload):
        synced.append((str(guild), sorted(command["name"] for command in payload)))
        return []

    monkeypatch.setattr(discord.http.HTTPClient, "bulk_upsert_global_commands", upsert_global)
    monkeypatch.setattr(discord.http.HTTPClient, "bulk_upsert_guild_commands", upsert_guild)
    bot = LumaBot(guild_id=guild_id)
    bot._connection.application_id = 1

    await bot.sync_commands()

    assert synced == [(guild_id or "global", ["chat", "forget", "memories", "remember"])]


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        (fakes.FakeResponse.defer, discord.InteractionResponse.defer),
        (fakes.FakeResponse.send_message, discord.InteractionResponse.send_message),
        (fakes.FakeResponse.edit_message, discord.InteractionResponse.edit_message),
        (fakes.FakeFollowup.send, discord.Webhook.send),
        (fakes.FakeInteraction.edit_original_response, discord.Interaction.edit_original_response),
        (
            fakes.FakeInteraction.delete_original_response,
            discord.Interaction.delete_original_response,
        ),
        (fakes.FakeMessage.edit, discord.WebhookMessage.edit),
        (fakes.FakeMessage.delete, discord.WebhookMessage.delete),
        (fakes.FakeChannel.send, discord.TextChannel.send),
    ],
)
def test_the_fakes_take_the_arguments_discord_py_takes(fake, real):
    real_parameters = inspect.signature(real).parameters
    for name, parameter in inspect.signature(fake).parameters.items():
        assert name in real_parameters
        assert parameter.kind == real_parameters[name].kind
    for name in ("user", "channel", "channel_id", "message", "response", "followup"):
        assert hasattr(discord.Interaction, name)
