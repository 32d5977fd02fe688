"""The web chat's WebSocket: one socket per open chat page.

Client to server: `{"type": "send", "text": ..., "conversation_id": ...,
"resend_of": optional}`, `{"type": "continue", "conversation_id": ...,
"continue_of": reply id}`, `{"type": "regenerate", "conversation_id": ...,
"message_id": the last reply}`, `{"type": "edit", "conversation_id": ...,
"message_id": a message of yours, "text": ...}` (later turns are replaced) and
`{"type": "stop"}`. Server to client: `user_message` (the stored message;
`continuing` with the reply for a continue, `regenerating` with the reply a new
version is being written of),
`reasoning` (a piece of a reasoning model's thinking; `reply_was_reasoning` when
the tokens so far turn out to have been thinking: a closing tag came with no
opening one), `token` (one per chunk of the reply; now and then with `html`, the
whole reply so far rendered as the finished one is, so Markdown shows as it
streams), `done` (the stored reply;
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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chat.markdown import markdown_to_safe_html
from chat.models import Channel
from chat.schemas import message_out
from chat.services import (
    ReplyContinues,
    ReplyEvent,
    ReplyRegenerates,
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
# What a client may send; any logged-in account may send them, on its own conversations.
MESSAGE_TYPES = ("send", "continue", "regenerate", "edit", "stop")
REPLYING_TYPES = ("send", "continue", "regenerate", "edit")
# How often a streaming reply's Markdown is rendered again (each render is the whole text).
HTML_EVERY_SECONDS = 0.08


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
        elif kind in REPLYING_TYPES:
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
            regenerate_of=request.regenerate_of,
            edit_of=request.edit_of,
        )
        rendered = _Rendered()
        for event in events:
            yield rendered.add(_as_json(event))

    async def _send_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
        if event["type"] in {"user_message", "done", "continuing", "regenerating"}:
            await self.channel_layer.group_send(
                self.user_group,
                {
                    "type": "conversation.updated",
                    "conversation_id": event["conversation_id"],
                    "sender": self.channel_name,
                },
            )


class _Rendered:
    """The reply streamed so far, rendered to HTML at most every `HTML_EVERY_SECONDS`
    (on the reply thread): the page shows Markdown as it comes, and a long reply is
    not rendered once per token."""

    def __init__(self) -> None:
        self.text = ""
        self.rendered_at = 0.0

    def add(self, event: dict[str, Any]) -> dict[str, Any]:
        if event["type"] in ("continuing", "regenerating", "user_message"):
            self.text = event["content"] if event["type"] == "continuing" else ""
            self.rendered_at = 0.0  # a new reply's first token comes rendered
        elif event["type"] == "reply_was_reasoning":
            self.text = ""
        elif event["type"] == "token":
            self.text += event["text"]
            now = time.monotonic()
            if now - self.rendered_at >= HTML_EVERY_SECONDS:
                self.rendered_at = now
                return {**event, "html": markdown_to_safe_html(self.text)}
        return event


@dataclass(frozen=True)
class _SendRequest:
    text: str
    conversation_id: int | None
    resend_of: int | None
    continue_of: int | None
    regenerate_of: int | None = None
    edit_of: int | None = None

    @classmethod
    def parse(cls, content: dict[str, Any]) -> "_SendRequest":
        """Raises ValueError with a message for the person when an id is not a number."""
        names = ("conversation_id", "resend_of", "continue_of", "message_id")
        try:
            ids = {name: int(content[name]) if content.get(name) else None for name in names}
        except (TypeError, ValueError):
            raise ValueError(
                "conversation_id, resend_of, continue_of and message_id must be numbers."
            ) from None
        kind = content.get("type")
        needed = {"continue": "continue_of", "regenerate": "message_id", "edit": "message_id"}
        if kind in needed and (ids[needed[kind]] is None or ids["conversation_id"] is None):
            raise ValueError(f"A {kind} request needs conversation_id and {needed[kind]}.")
        message_id = ids.pop("message_id")
        return cls(
            str(content.get("text", "")),
            conversation_id=ids["conversation_id"],
            resend_of=ids["resend_of"] if kind == "send" else None,
            continue_of=ids["continue_of"] if kind == "continue" else None,
            regenerate_of=message_id if kind == "regenerate" else None,
            edit_of=message_id if kind == "edit" else None,
        )


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
            merged = {**last, "text": last["text"] + event["text"]}
            if "html" in event:  # the newest rendering; else the last one stays
                merged["html"] = event["html"]
            out[-1] = merged
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
    if isinstance(event, ReplyRegenerates):
        return {"type": "regenerating", **_jsonable(message_out(event.message))}
    return {
        "type": "done",
        "stopped": event.stopped,
        "together": event.together,
        **_jsonable(message_out(event.message, memories=event.memories)),
    }


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "created_at": data["created_at"].isoformat()}
