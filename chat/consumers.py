"""The web chat's WebSocket: one socket per open chat page.

Client to server: `{"type": "send", "text": ..., "conversation_id": ...,
"resend_of": optional}`, `{"type": "continue", "conversation_id": ...,
"continue_of": reply id}` and `{"type": "stop"}`. Server to client:
`user_message` (the stored message; `continuing` with the reply for a continue),
`reasoning` (a piece of a reasoning model's thinking; `reply_was_reasoning` when
the tokens so far turn out to have been thinking: a closing tag came with no
opening one), `token` (one per chunk of the reply), `done` (the stored reply;
`together` when an earlier reply already answered this message) or `error`,
then `idle`; the messages have the shape of `chat.schemas.MessageOut`, like the
API's. When a reply fails after some text,
`done` (the partial reply, `status` "interrupted") comes before `error`.
`conversation_updated` tells a socket that another socket of the same user
(another tab, device or server process) changed a conversation.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chat.models import Channel
from chat.schemas import message_out
from chat.services import (
    ReplyContinues,
    ReplyEvent,
    Speaker,
    UserMessageStored,
    conversation_for_owner,
    conversation_reply_stream,
)
from luma.errors import LumaError
from luma.relay import ThreadRelay
from luma.roles import is_owner
from providers.base import Reasoning
from providers.reasoning import ReplyWasReasoning

logger = logging.getLogger(__name__)

NOT_LOGGED_IN = 4401
# What a client may send; any logged-in account may send both, on its own conversations.
MESSAGE_TYPES = ("send", "continue", "stop")


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=NOT_LOGGED_IN)
            return
        self.stop_requested = threading.Event()
        self.reply_task: asyncio.Task[None] | None = None
        # Every socket of one user, in any server process: the others hear when a
        # conversation changes (another tab, another device).
        self.user_group = f"chat.user.{user.pk}"
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "stop_requested", None) is not None:
            self.stop_requested.set()
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def conversation_updated(self, message: dict[str, Any]) -> None:
        """A reply was stored by another of this user's sockets."""
        if message["sender"] != self.channel_name:
            await self.send_json(
                {"type": "conversation_updated", "conversation_id": message["conversation_id"]}
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "Expected a JSON object."})
            return
        kind = content.get("type")
        if kind == "stop":
            self.stop_requested.set()
        elif kind in ("send", "continue"):
            if self.reply_task is not None and not self.reply_task.done():
                await self.send_json(
                    {"type": "error", "message": "Wait for the current reply to finish."}
                )
                return
            self.stop_requested.clear()
            self.reply_task = asyncio.create_task(self._reply(content))
        else:
            await self.send_json({"type": "error", "message": f"Unknown message type {kind!r}."})

    async def _reply(self, content: dict[str, Any]) -> None:
        """Run the (blocking) conversation service on a reply thread and relay its events."""
        try:
            request = _SendRequest.parse(content)
        except ValueError as error:
            await self.send_json({"type": "error", "message": str(error)})
            await self.send_json({"type": "idle"})
            return
        relay = ThreadRelay(lambda abandoned: self._events(request, abandoned))
        try:
            while (batch := await relay.next_batch()) is not None:
                for event in _coalesced(batch):
                    await self._send_event(event)
        except LumaError as error:
            message = error.message_for(owner=is_owner(self.scope["user"]))
            await self.send_json({"type": "error", "message": message, **error.context})
        except Exception:
            logger.exception("The chat reply failed")
            await self.send_json(
                {"type": "error", "message": "Something went wrong on the server. Try again."}
            )
        finally:
            relay.abandon()
        await self.send_json({"type": "idle"})  # ready for the next message

    def _events(
        self, request: "_SendRequest", abandoned: Callable[[], bool]
    ) -> Iterator[dict[str, Any]]:
        """The conversation service's events as JSON, on the reply thread (it blocks)."""
        user = self.scope["user"]
        conversation = conversation_for_owner(owner=user, conversation_id=request.conversation_id)
        events = conversation_reply_stream(
            conversation=conversation,
            speaker=Speaker(user=user, channel=Channel.WEB),
            text=request.text,
            should_stop=lambda: self.stop_requested.is_set() or abandoned(),
            resend_of=request.resend_of,
            continue_of=request.continue_of,
        )
        for event in events:
            yield _as_json(event)

    async def _send_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
        if event["type"] in {"user_message", "done", "continuing"}:
            await self.channel_layer.group_send(
                self.user_group,
                {
                    "type": "conversation.updated",
                    "conversation_id": event["conversation_id"],
                    "sender": self.channel_name,
                },
            )


@dataclass(frozen=True)
class _SendRequest:
    text: str
    conversation_id: int | None
    resend_of: int | None
    continue_of: int | None

    @classmethod
    def parse(cls, content: dict[str, Any]) -> "_SendRequest":
        """Raises ValueError with a message for the person when an id is not a number."""
        try:
            ids = {
                name: int(content[name]) if content.get(name) else None
                for name in ("conversation_id", "resend_of", "continue_of")
            }
        except (TypeError, ValueError):
            raise ValueError(
                "conversation_id, resend_of and continue_of must be numbers."
            ) from None
        if content.get("type") == "continue" and (
            ids["continue_of"] is None or ids["conversation_id"] is None
        ):
            raise ValueError("A continue request needs conversation_id and continue_of.")
        if content.get("type") != "continue":
            ids["continue_of"] = None
        return cls(str(content.get("text", "")), **ids)


def _coalesced(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive `token` (or `reasoning`) events as one: when the server is busy,
    the tokens that piled up go out in one WebSocket message instead of one each."""
    out: list[dict[str, Any]] = []
    for event in events:
        last = out[-1] if out else None
        if (
            last is not None
            and event["type"] in ("token", "reasoning")
            and last["type"] == event["type"]
        ):
            out[-1] = {**last, "text": last["text"] + event["text"]}
        else:
            out.append(event)
    return out


def _as_json(event: ReplyEvent) -> dict[str, Any]:
    if isinstance(event, str):
        return {"type": "token", "text": event}
    if isinstance(event, Reasoning):
        return {"type": "reasoning", "text": event.text}
    if isinstance(event, ReplyWasReasoning):
        return {"type": "reply_was_reasoning"}
    if isinstance(event, UserMessageStored):
        return {"type": "user_message", **_jsonable(message_out(event.message, memories=()))}
    if isinstance(event, ReplyContinues):
        return {"type": "continuing", **_jsonable(message_out(event.message))}
    return {
        "type": "done",
        "stopped": event.stopped,
        "together": event.together,
        **_jsonable(message_out(event.message, memories=event.memories)),
    }


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "created_at": data["created_at"].isoformat()}
