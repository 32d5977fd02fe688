import pytest

from discordbot.models import BotSettings
from discordbot.services import bot_settings_get
from discordbot.tests.fakes import FakeChannel, FakeInteraction, FakeMember, FakeRole

ALICE_ID, BOB_ID, MOD_ID = 111, 222, 333
MOD_ROLE_ID = 900


@pytest.fixture
def alice() -> FakeMember:
    return FakeMember(id=ALICE_ID, display_name="Alice", roles=[FakeRole(1)])


@pytest.fixture
def bob() -> FakeMember:
    return FakeMember(id=BOB_ID, display_name="Bob")


@pytest.fixture
def moderator() -> FakeMember:
    return FakeMember(id=MOD_ID, display_name="Mod", roles=[FakeRole(MOD_ROLE_ID)])


@pytest.fixture
def bot_settings(db) -> BotSettings:
    row = bot_settings_get()
    row.moderation_channel_id = "777"
    row.moderator_role_ids = str(MOD_ROLE_ID)
    row.moderator_user_ids = "444, 445"
    row.save()
    return row


@pytest.fixture
def interaction_for():
    def make(member: FakeMember, channel: FakeChannel | None = None, **kwargs) -> FakeInteraction:
        return FakeInteraction(user=member, channel=channel, **kwargs)

    return make
