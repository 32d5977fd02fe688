import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from discordbot.models import BotSettings
from discordbot.services import DiscordMember, bot_settings_get, member_is_moderator


@override_settings(
    DISCORD_MODERATION_CHANNEL_ID="777",
    DISCORD_MODERATOR_ROLE_IDS="900, 901",
    DISCORD_MODERATOR_USER_IDS="333",
)
def test_the_settings_row_is_seeded_from_the_environment_once(db):
    row = bot_settings_get()

    assert (row.moderation_channel_id, row.moderator_role_ids) == ("777", "900, 901")
    assert member_is_moderator(member=DiscordMember(id=1, name="a", role_ids=frozenset({901})))
    assert member_is_moderator(member=DiscordMember(id=333, name="b"))
    assert not member_is_moderator(member=DiscordMember(id=1, name="c", role_ids=frozenset({5})))
    with override_settings(DISCORD_MODERATION_CHANNEL_ID="888"):
        assert bot_settings_get().moderation_channel_id == "777"  # the database wins afterwards


@override_settings(DISCORD_MODERATOR_ROLE_IDS="mods")
def test_a_bad_seed_is_a_clear_configuration_error(db):
    with pytest.raises(
        ImproperlyConfigured, match=r"^DISCORD_MODERATOR_ROLE_IDS: Enter Discord ids"
    ):
        bot_settings_get()
    assert not BotSettings.objects.exists()


def test_moderators_are_edited_in_the_admin(admin_client):
    bot_settings_get()
    url = "/admin/discordbot/botsettings/1/change/"
    assert admin_client.get(url).status_code == 200

    refused = admin_client.post(
        url,
        {"moderation_channel_id": "777", "moderator_role_ids": "mods", "moderator_user_ids": ""},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "separated by commas" in refused.content.decode()

    saved = admin_client.post(
        url,
        {"moderation_channel_id": "777", "moderator_role_ids": "900,901", "moderator_user_ids": ""},
    )
    assert saved.status_code == 302
    assert BotSettings.objects.get().moderator_role_ids == "900,901"
