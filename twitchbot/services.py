"""What the Twitch bot does with Luma's data: sync code, run on reply threads
(`luma.relay.ThreadRelay`) or through `database_sync_to_async`; the bot's event loop
never touches the ORM."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from chat.models import Channel
from chat.services import (
    ReplyEvent,
    Speaker,
    conversation_for_twitch_channel,
    conversation_reply_stream,
)
from luma.models import RuntimeSettings
from luma.services import runtime_settings_get
from memories.subjects import twitch_account
from overlay.models import BlockedDirection
from overlay.moderation import StreamFilter
from overlay.services import blocked_record, stream_filter_get
from persona.selectors import persona_get

logger = logging.getLogger(__name__)

# Environment variables that seed the Twitch answering settings the first time the bot
# reads them; afterwards the settings page ("On stream") is the place to change them.
_ENV_SEEDS = {
    "twitch_command_prefix": "TWITCH_COMMAND_PREFIX",
    "twitch_viewer_cooldown": "TWITCH_VIEWER_COOLDOWN",
    "twitch_channel_rate": "TWITCH_CHANNEL_RATE",
    "twitch_stale_seconds": "TWITCH_STALE_SECONDS",
    "twitch_known_bots": "TWITCH_KNOWN_BOTS",
}


@dataclass(frozen=True)
class TwitchRules:
    """The answering settings, read at once (the bot refreshes them every few seconds)."""

    persona_name: str
    command_prefix: str
    viewer_cooldown: float
    channel_rate: int
    stale_seconds: float
    known_bots: frozenset[str]
    mods_skip_cooldown: bool
    filter: StreamFilter


def _seed_from_environment() -> None:
    """Fill the Twitch settings from TWITCH_* variables, once."""
    row = runtime_settings_get()
    if row.twitch_settings_seeded:
        return
    changes: dict[str, object] = {}
    for field, variable in _ENV_SEEDS.items():
        raw = getattr(settings, variable, "").strip()
        if not raw:
            continue
        try:
            changes[field] = RuntimeSettings._meta.get_field(field).to_python(raw)
        except ValidationError as error:
            raise ImproperlyConfigured(f"{variable}: {error.messages[0]}") from None
    for field, value in changes.items():
        setattr(row, field, value)
    try:
        row.full_clean(exclude=[f.name for f in row._meta.fields if f.name not in changes])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise ImproperlyConfigured(f"{_ENV_SEEDS.get(field, field)}: {problems[0]}") from None
    RuntimeSettings.objects.filter(pk=1, twitch_settings_seeded=False).update(
        **changes, twitch_settings_seeded=True
    )


def twitch_rules_get() -> TwitchRules:
    _seed_from_environment()
    row = runtime_settings_get()
    bots = {name.strip().lstrip("@").lower() for name in row.twitch_known_bots.split(",")}
    return TwitchRules(
        persona_name=persona_get().name,
        command_prefix=row.twitch_command_prefix.strip(),
        viewer_cooldown=float(row.twitch_viewer_cooldown),
        channel_rate=row.twitch_channel_rate,
        stale_seconds=float(row.twitch_stale_seconds),
        known_bots=frozenset(name for name in bots if name),
        mods_skip_cooldown=row.twitch_mods_skip_cooldown,
        filter=stream_filter_get(row),
    )


def twitch_viewer(*, user_id: str, display_name: str) -> Speaker:
    """A Twitch viewer as a speaker: their memories are theirs, by Twitch user id."""
    return Speaker(discord_id=twitch_account(user_id), name=display_name, channel=Channel.TWITCH)


def twitch_reply_events(
    *, channel: str, user_id: str, display_name: str, text: str, abandoned: Callable[[], bool]
) -> Iterator[ReplyEvent]:
    """The conversation service's events for a viewer's question in a channel's one
    conversation (blocking: run it on a reply thread)."""
    conversation = conversation_for_twitch_channel(channel=channel)
    yield from conversation_reply_stream(
        conversation=conversation,
        speaker=twitch_viewer(user_id=user_id, display_name=display_name),
        text=text,
        should_stop=abandoned,
    )


def twitch_blocked_record(
    *, filter: StreamFilter, text: str, viewer: bool, channel: str, name: str, user_id: str
) -> bool:
    """Whether the filter blocks `text`; a block is recorded for the owner."""
    found = filter.first(text)
    if found is None:
        return False
    blocked_record(
        found=found,
        direction=BlockedDirection.VIEWER if viewer else BlockedDirection.REPLY,
        text=text,
        channel=channel,
        author_name=name,
        author_id=user_id,
    )
    return True
