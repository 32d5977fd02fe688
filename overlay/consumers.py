"""The overlay's WebSocket: `ws/overlay/?token=…[&surfaces=twitch,discord]`.

OBS cannot log in, so the secret token in the URL is the only credential: a wrong
or missing one is refused before the socket opens, and a rotated one closes the
sockets that used it. Server to client: `hello` (the persona's name, the fade time,
the surfaces followed), then `question`, `reply` (the text so far), `done` and `end`
(a reply that stopped with nothing to show) for each reply on a followed surface.
The overlay sends nothing; what it sends is ignored.
"""

import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from luma.models import AutoApprovalSource
from luma.services import runtime_settings_get
from overlay.services import OVERLAY_GROUP, overlay_token_valid
from persona.selectors import persona_get

logger = logging.getLogger(__name__)

TOKEN_REFUSED = 4403


def _overlay_config() -> dict[str, Any]:
    row = runtime_settings_get()
    persona = persona_get()
    return {
        "surfaces": list(row.overlay_surfaces),
        "fade_seconds": row.overlay_fade_seconds,
        "persona": persona.name,
        "avatar_url": getattr(persona, "avatar_url", "") or "",
    }


class OverlayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.token = self._query("token")
        if not await database_sync_to_async(overlay_token_valid)(self.token):
            await self.close(code=TOKEN_REFUSED)
            return
        self.joined = True
        await self.channel_layer.group_add(OVERLAY_GROUP, self.channel_name)
        await self.accept()
        await self._hello()

    async def _hello(self) -> None:
        config = await database_sync_to_async(_overlay_config)()
        chosen = [s for s in self._query("surfaces").split(",") if s in AutoApprovalSource.values]
        # The URL can narrow what the settings allow, never widen it.
        self.surfaces = set(config["surfaces"]) & set(chosen or config["surfaces"])
        await self.send_json({"type": "hello", **config, "surfaces": sorted(self.surfaces)})

    def _query(self, name: str) -> str:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return (query.get(name) or [""])[0]

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(OVERLAY_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """An overlay only listens."""

    async def _relay(self, message: dict[str, Any]) -> None:
        if message.get("surface") in self.surfaces:
            kind = message["type"].removeprefix("overlay.")
            await self.send_json({**message, "type": kind})

    overlay_question = _relay
    overlay_reply = _relay
    overlay_done = _relay
    overlay_end = _relay

    async def overlay_settings(self, message: dict[str, Any]) -> None:
        """The owner changed the surfaces or the fade time."""
        await self._hello()

    async def overlay_rotated(self, message: dict[str, Any]) -> None:
        """The owner rotated the token: a socket opened with the old one closes."""
        if not await database_sync_to_async(overlay_token_valid)(self.token):
            await self.close(code=TOKEN_REFUSED)
