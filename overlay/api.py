"""The "On stream" settings: the overlay (its URL with the secret token), the moderation
filter and the Twitch bot's answering. The owner's only."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool, field_validator

from luma.models import (
    MEMORY_BLOCKLIST_ENTRY_MAX_CHARS,
    STREAM_BLOCKLIST_MAX_LINES,
    AutoApprovalSource,
    RuntimeSettings,
)
from luma.roles import Role, role_required
from luma.schemas import InputSchema
from luma.services import runtime_settings_get
from overlay.services import (
    blocked_summary,
    overlay_token_get,
    overlay_token_rotate,
    stream_settings_update,
)

router = Router()


class StreamSettingsOut(Schema):
    overlay_token: str = Field(description="The secret in the overlay's URL.")
    overlay_path: str = Field(description="The overlay's path with its token: /overlay/?token=…")
    overlay_surfaces: list[AutoApprovalSource]
    overlay_fade_seconds: int
    stream_blocklist: str
    twitch_command_prefix: str
    twitch_viewer_cooldown: int
    twitch_channel_rate: int
    twitch_stale_seconds: int
    twitch_known_bots: str
    twitch_mods_skip_cooldown: bool


class StreamSettingsIn(InputSchema):
    """Every field is optional: only what is sent changes."""

    overlay_surfaces: list[AutoApprovalSource] | None = Field(
        None, min_length=1, max_length=len(AutoApprovalSource)
    )
    overlay_fade_seconds: int | None = Field(None, ge=3, le=600)
    stream_blocklist: str | None = Field(
        None,
        max_length=STREAM_BLOCKLIST_MAX_LINES * (MEMORY_BLOCKLIST_ENTRY_MAX_CHARS + 2),
        description="Words, phrases and /patterns/, one a line; a bad pattern is refused "
        "(400) with its line.",
    )
    twitch_command_prefix: str | None = Field(None, min_length=1, max_length=20)
    twitch_viewer_cooldown: int | None = Field(None, ge=0, le=86400)
    twitch_channel_rate: int | None = Field(None, ge=1, le=60)
    twitch_stale_seconds: int | None = Field(None, ge=5, le=3600)
    twitch_known_bots: str | None = Field(None, max_length=2000)
    twitch_mods_skip_cooldown: StrictBool | None = None

    model_config = ConfigDict(extra="forbid")

    @field_validator(
        "overlay_fade_seconds",
        "twitch_viewer_cooldown",
        "twitch_channel_rate",
        "twitch_stale_seconds",
        mode="before",
    )
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        """A JSON number: `true` or `"5"` is not one (pydantic would read 1 and 5)."""
        if isinstance(value, bool | str):
            raise ValueError("Input should be a number")
        return value


class OverlayTokenOut(Schema):
    overlay_token: str
    overlay_path: str


class BlockedOut(Schema):
    id: int
    direction: str
    channel: str
    author_name: str
    text: str
    entry: str
    created_at: datetime


class BlockedSummaryOut(Schema):
    viewer_total: int
    reply_total: int
    last_day: int
    latest: list[BlockedOut]


def overlay_path(token: str) -> str:
    return f"/overlay/?token={token}"


def _settings_out(row: RuntimeSettings) -> dict[str, object]:
    token = overlay_token_get()
    data: dict[str, object] = {
        name: getattr(row, name)
        for name in StreamSettingsOut.model_fields
        if name != "overlay_path"
    }
    return {**data, "overlay_token": token, "overlay_path": overlay_path(token)}


@router.get("/settings", response=StreamSettingsOut, summary="Read the stream settings")
@role_required(Role.OWNER, action="read the stream settings")
def stream_settings_read(request: HttpRequest) -> dict[str, object]:
    return _settings_out(runtime_settings_get())


@router.put("/settings", response=StreamSettingsOut, summary="Change the stream settings")
@role_required(Role.OWNER, action="change the stream settings")
def stream_settings_change(request: HttpRequest, payload: StreamSettingsIn) -> dict[str, object]:
    return _settings_out(stream_settings_update(**payload.dict(exclude_unset=True)))


@router.post(
    "/overlay-token", response=OverlayTokenOut, summary="Rotate the overlay's secret token"
)
@role_required(Role.OWNER, action="rotate the overlay's token")
def overlay_token_new(request: HttpRequest) -> dict[str, str]:
    token = overlay_token_rotate()
    return {"overlay_token": token, "overlay_path": overlay_path(token)}


@router.get("/blocked", response=BlockedSummaryOut, summary="What the moderation filter stopped")
@role_required(Role.OWNER, action="see what the moderation filter blocked")
def blocked_list(request: HttpRequest) -> object:
    return blocked_summary()
