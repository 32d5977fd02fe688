"""`manage.py runtwitch`: a clear line, not a traceback, for what is missing or refused."""

import pytest
from django.core.management import CommandError, call_command

from luma.services import runtime_settings_get


@pytest.fixture
def no_twitch_env(settings):
    settings.TWITCH_TOKEN = ""
    settings.TWITCH_CHANNELS = []
    settings.TWITCH_IRC_URL = "ircs://irc.chat.twitch.tv:6697"


def test_a_missing_token_is_one_clear_line(db, no_twitch_env):
    with pytest.raises(CommandError) as refused:
        call_command("runtwitch")
    assert str(refused.value).startswith("No Twitch token: set TWITCH_TOKEN")
    assert "\n" not in str(refused.value)


def test_no_channel_is_one_clear_line(db, no_twitch_env):
    with pytest.raises(CommandError, match="No channel to join: set TWITCH_CHANNELS"):
        call_command("runtwitch", token="abc")


def test_a_bad_server_address_is_one_clear_line(db, no_twitch_env):
    with pytest.raises(CommandError, match="TWITCH_IRC_URL must look like"):
        call_command("runtwitch", token="abc", channels="me", url="https://twitch.tv")


@pytest.mark.django_db(transaction=True)
def test_a_token_twitch_refuses_is_one_clear_line(no_twitch_env, twitch):
    with pytest.raises(CommandError) as refused:
        call_command("runtwitch", token="oauth:not-the-token", channels="me", url=twitch.url)
    message = str(refused.value)
    assert message.startswith("Twitch refused the bot's login (Login authentication failed)")
    assert "not-the-token" not in message  # secrets never echoed
    assert twitch.lines.count("PASS oauth:not-the-token") == 1


def test_a_bad_seed_in_the_environment_is_one_clear_line(db, no_twitch_env, settings):
    settings.TWITCH_CHANNEL_RATE = "many"
    with pytest.raises(CommandError, match="TWITCH_CHANNEL_RATE"):
        call_command("runtwitch", token="abc", channels="me")


def test_the_environment_seeds_the_answering_settings_once(db, no_twitch_env, settings):
    from twitchbot.services import twitch_rules_get

    settings.TWITCH_COMMAND_PREFIX = "!luma"
    settings.TWITCH_VIEWER_COOLDOWN = "90"
    rules = twitch_rules_get()
    assert (rules.command_prefix, rules.viewer_cooldown) == ("!luma", 90)
    row = runtime_settings_get()
    row.twitch_command_prefix = "!hey"
    row.save()
    assert twitch_rules_get().command_prefix == "!hey"  # the settings page wins afterwards
