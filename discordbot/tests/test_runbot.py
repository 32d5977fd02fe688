import discord
import pytest
from django.core.management import CommandError, call_command


def test_a_missing_token_is_a_one_line_error(db, settings, monkeypatch):
    settings.DISCORD_TOKEN = ""

    with pytest.raises(CommandError) as raised:
        call_command("runbot")

    assert "DISCORD_TOKEN" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_invalid_token_is_a_one_line_error(db, settings, monkeypatch):
    settings.DISCORD_TOKEN = "not-a-real-token"
    tried: list[str] = []

    async def refuse(self, token: str):  # Discord's answer to a bad token, at its HTTP edge
        tried.append(token)
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", refuse)

    with pytest.raises(CommandError) as raised:
        call_command("runbot")

    assert tried == ["not-a-real-token"]
    assert "Discord rejected the bot token" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_token_option_wins_over_the_setting(db, settings, monkeypatch):
    settings.DISCORD_TOKEN = "from-settings"
    tried: list[str] = []

    async def refuse(self, token: str):
        tried.append(token)
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", refuse)

    with pytest.raises(CommandError):
        call_command("runbot", "--token", "  from-option  ")

    assert tried == ["from-option"]


def test_a_bad_server_id_is_refused(db, settings):
    settings.DISCORD_TOKEN = "token"

    with pytest.raises(CommandError, match="server id must be a number"):
        call_command("runbot", "--guild", "my-server")


def test_an_unreachable_discord_is_a_one_line_error(db, settings, monkeypatch):
    settings.DISCORD_TOKEN = "token"

    async def unreachable(self, token: str):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", unreachable)

    with pytest.raises(CommandError, match=r"^Could not reach Discord: Network is unreachable$"):
        call_command("runbot")


def test_a_bad_moderator_setting_is_a_one_line_error(db, settings):
    settings.DISCORD_TOKEN = "token"
    settings.DISCORD_MODERATOR_USER_IDS = "@alice"

    with pytest.raises(CommandError, match=r"^DISCORD_MODERATOR_USER_IDS: Enter Discord ids"):
        call_command("runbot")
