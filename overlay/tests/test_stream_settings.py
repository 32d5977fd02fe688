"""The "On stream" settings and the overlay token: the owner's only, every role tried."""

import json

import pytest
from django.test import Client

from luma.services import runtime_settings_get
from overlay.models import BlockedMessage

pytestmark = pytest.mark.django_db

SETTINGS = "/api/stream/settings"
ROTATE = "/api/stream/overlay-token"
BLOCKED = "/api/stream/blocked"


def put(client, body):
    return client.put(SETTINGS, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("who", ["user_client", "moderator_client"])
def test_viewers_and_moderators_may_not_read_change_rotate_or_list(who, request):
    client = request.getfixturevalue(who)
    before = runtime_settings_get().stream_blocklist
    assert client.get(SETTINGS).status_code == 403
    refused = put(client, {"stream_blocklist": "hacked"})
    assert refused.status_code == 403
    assert refused.json()["required_role"] == "owner"
    assert client.post(ROTATE).status_code == 403
    assert client.get(BLOCKED).status_code == 403
    assert runtime_settings_get().stream_blocklist == before
    assert runtime_settings_get().overlay_token == ""


def test_anonymous_visitors_are_refused(db):
    anonymous = Client()
    assert anonymous.get(SETTINGS).status_code == 401
    assert anonymous.post(ROTATE).status_code == 401
    assert anonymous.get(BLOCKED).status_code == 401


def test_the_owner_reads_the_overlay_address_with_a_token_made_once(admin_client):
    first = admin_client.get(SETTINGS).json()
    assert len(first["overlay_token"]) >= 24
    assert first["overlay_path"] == f"/overlay/?token={first['overlay_token']}"
    assert admin_client.get(SETTINGS).json()["overlay_token"] == first["overlay_token"]


def test_the_owner_rotates_the_token(admin_client):
    old = admin_client.get(SETTINGS).json()["overlay_token"]
    rotated = admin_client.post(ROTATE).json()
    assert rotated["overlay_token"] != old
    assert runtime_settings_get().overlay_token == rotated["overlay_token"]


def test_the_owner_saves_the_blocklist_and_twitch_settings(admin_client):
    saved = put(
        admin_client,
        {
            "stream_blocklist": "badword\n/fr[e3]+/",
            "twitch_command_prefix": "!luma",
            "twitch_viewer_cooldown": 45,
            "twitch_channel_rate": 4,
            "overlay_surfaces": ["twitch"],
            "overlay_fade_seconds": 20,
        },
    )
    assert saved.status_code == 200, saved.content
    row = runtime_settings_get()
    assert (row.stream_blocklist, row.twitch_command_prefix) == ("badword\n/fr[e3]+/", "!luma")
    assert (row.twitch_viewer_cooldown, row.twitch_channel_rate) == (45, 4)
    assert (row.overlay_surfaces, row.overlay_fade_seconds) == (["twitch"], 20)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"stream_blocklist": "ok\n/(broken/"}, "stream_blocklist", "Line 2"),
        ({"twitch_command_prefix": "/ask"}, "twitch_command_prefix", "cannot start with /"),
        ({"twitch_command_prefix": "! ask"}, "twitch_command_prefix", "no spaces"),
        ({"overlay_surfaces": []}, "overlay_surfaces", ""),
        ({"twitch_channel_rate": 0}, "twitch_channel_rate", ""),
        ({"twitch_channel_rate": True}, "twitch_channel_rate", "number"),
        ({"twitch_stale_seconds": "60"}, "twitch_stale_seconds", "number"),
        ({"twitch_mods_skip_cooldown": 0}, "twitch_mods_skip_cooldown", ""),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(admin_client, body, field, words):
    refused = put(admin_client, {**body, "twitch_viewer_cooldown": 99})
    assert refused.status_code in (400, 422)
    assert field in refused.json()["message"]
    assert words in refused.json()["message"]
    assert runtime_settings_get().twitch_viewer_cooldown == 30


def test_the_owner_sees_what_was_blocked(admin_client):
    BlockedMessage.objects.create(direction="viewer", author_name="troll", text="x", entry="x")
    BlockedMessage.objects.create(direction="reply", text="y", entry="y")
    listed = admin_client.get(BLOCKED).json()
    assert (listed["viewer_total"], listed["reply_total"], listed["last_day"]) == (1, 1, 2)
    assert [item["direction"] for item in listed["latest"]] == ["reply", "viewer"]


def test_the_settings_page_has_the_on_stream_section_for_the_owner(admin_client):
    token = admin_client.get(SETTINGS).json()["overlay_token"]
    page = admin_client.get("/settings/").content.decode()
    assert 'id="on-stream"' in page
    assert f'data-token="{token}"' in page
    assert "overlay/on-stream.js" in page


@pytest.mark.parametrize("who", ["user_client", "moderator_client"])
def test_the_settings_page_and_its_token_stay_hidden_from_other_roles(who, request, admin_client):
    token = admin_client.get(SETTINGS).json()["overlay_token"]
    page = request.getfixturevalue(who).get("/settings/")
    assert page.status_code == 403
    assert token not in page.content.decode()
