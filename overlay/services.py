"""The stream's settings (overlay, moderation filter, Twitch answering), the overlay's
secret token and the moderation log."""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from luma.models import RuntimeSettings
from luma.services import InvalidSettings, runtime_settings_get
from overlay.models import BlockedDirection, BlockedMessage
from overlay.moderation import Blocked, InvalidBlocklist, StreamFilter, stream_filter_parse

logger = logging.getLogger(__name__)

OVERLAY_GROUP = "overlay"
BLOCKED_TEXT_CHARS = 1000
BLOCKED_LISTED = 50

# What the "On stream" section edits (the overlay token has its own service).
STREAM_FIELDS = (
    "overlay_surfaces",
    "overlay_fade_seconds",
    "stream_blocklist",
    "twitch_command_prefix",
    "twitch_viewer_cooldown",
    "twitch_channel_rate",
    "twitch_stale_seconds",
    "twitch_known_bots",
    "twitch_mods_skip_cooldown",
)


def stream_filter_get(row: RuntimeSettings | None = None) -> StreamFilter:
    """The moderation filter as saved (a blocklist saved before it was checked and no
    longer compiling filters with the entries that do)."""
    text = (row or runtime_settings_get()).stream_blocklist
    try:
        return stream_filter_parse(text)
    except InvalidBlocklist as error:
        logger.warning("The stream blocklist has a bad pattern: %s", error.message)
        good = "\n".join(line for line in text.splitlines() if _compiles(line))
        return stream_filter_parse(good)


def _compiles(line: str) -> bool:
    try:
        stream_filter_parse(line)
    except InvalidBlocklist:
        return False
    return True


def _command_prefix_clean(value: str) -> str:
    prefix = value.strip()
    if not prefix or any(character.isspace() for character in prefix):
        raise ValidationError("Enter one word with no spaces, e.g. !ask.")
    if prefix[0] in "/.":
        raise ValidationError("A command cannot start with / or . (Twitch's own commands).")
    return prefix


@transaction.atomic
def stream_settings_update(**changes: Any) -> RuntimeSettings:
    """Validate and save the "On stream" settings; None leaves a setting alone.

    Raises `InvalidSettings` (400) naming each bad field; nothing is saved then.
    """
    unknown = set(changes) - set(STREAM_FIELDS)
    if unknown:
        raise InvalidSettings({name: ["Not a stream setting."] for name in sorted(unknown)})
    runtime_settings_get()
    row = RuntimeSettings.objects.select_for_update().get(pk=1)
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        if value is None:
            continue
        try:
            if name == "twitch_command_prefix":
                value = _command_prefix_clean(value)
            elif name == "stream_blocklist":
                stream_filter_parse(value)
            elif name == "overlay_surfaces" and not value:
                raise ValidationError("Choose at least one surface for the overlay to follow.")
            setattr(row, name, value)
        except InvalidBlocklist as error:
            errors[name] = [error.message]
        except ValidationError as error:
            errors[name] = error.messages
    try:
        row.full_clean(exclude=[f for f in _field_names() if f not in changes])
    except ValidationError as error:
        for name, problems in error.message_dict.items():
            errors.setdefault(name, problems)
    if errors:
        raise InvalidSettings(errors)
    row.save(update_fields=[name for name, value in changes.items() if value is not None])
    # Open overlays take the new surfaces and fade time without a reload in OBS.
    transaction.on_commit(lambda: _tell_overlays({"type": "overlay.settings"}))
    return row


def _field_names() -> list[str]:
    return [field.name for field in RuntimeSettings._meta.get_fields()]


def overlay_token_get() -> str:
    """The overlay's token, made the first time it is asked for."""
    row = runtime_settings_get()
    if row.overlay_token:
        return row.overlay_token
    RuntimeSettings.objects.filter(pk=1, overlay_token="").update(
        overlay_token=secrets.token_urlsafe(24)
    )
    return RuntimeSettings.objects.values_list("overlay_token", flat=True).get(pk=1)


def overlay_token_rotate() -> str:
    """A new token: overlays open with the old one go blank at once."""
    runtime_settings_get()
    token = secrets.token_urlsafe(24)
    RuntimeSettings.objects.filter(pk=1).update(overlay_token=token)
    _tell_overlays({"type": "overlay.rotated"})
    logger.info("The overlay token was rotated")
    return token


def overlay_token_valid(token: str) -> bool:
    """Whether `token` opens the overlay (compared in constant time)."""
    saved = RuntimeSettings.objects.filter(pk=1).values_list("overlay_token", flat=True).first()
    if not saved or not token:
        return False
    return hmac.compare_digest(saved.encode(), token.encode())


def _tell_overlays(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(OVERLAY_GROUP, message)


def blocked_record(
    *,
    found: Blocked,
    direction: str,
    text: str,
    channel: str = "",
    author_name: str = "",
    author_id: str = "",
    surface: str = "twitch",
) -> BlockedMessage:
    logger.info("The stream filter blocked %s (entry %r)", direction, found.entry)
    return BlockedMessage.objects.create(
        direction=direction,
        surface=surface,
        channel=channel[:64],
        author_name=author_name[:150],
        author_id=author_id[:32],
        text=text[:BLOCKED_TEXT_CHARS],
        entry=found.entry[:200],
    )


@dataclass(frozen=True)
class BlockedSummary:
    viewer_total: int
    reply_total: int
    last_day: int
    latest: list[BlockedMessage]


def blocked_summary(*, limit: int = BLOCKED_LISTED) -> BlockedSummary:
    """How many messages the filter stopped (each way, and in the last 24 hours), and
    the latest ones."""
    since = timezone.now() - timedelta(days=1)
    counts = BlockedMessage.objects.aggregate(
        viewer=Count("pk", filter=Q(direction=BlockedDirection.VIEWER)),
        reply=Count("pk", filter=Q(direction=BlockedDirection.REPLY)),
        last_day=Count("pk", filter=Q(created_at__gte=since)),
    )
    latest = list(BlockedMessage.objects.all()[:limit])
    return BlockedSummary(counts["viewer"], counts["reply"], counts["last_day"], latest)
