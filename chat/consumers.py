"""The web chat's WebSocket: one socket per open chat page.

Client to server: `{"type": "send", "text": ..., "conversation_id": ...,
"resend_of": optional}` and `{"type": "stop"}`. Server to client:
`user_message`, `token` (one per chunk), `done` (the stored reply, its
sanitised Markdown as `html`, its usage and memories) or `error`, then `idle`;
and `conversation_updated` when another socket of the same user (another tab,
device or server process) changed a conversation.
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections

from chat.markdown import markdown_to_safe_html
from chat.models import Channel
from chat.services import (
    ReplyStored,
    Speaker,
    UserMessageStored,
    conversation_for_owner,
    conversation_reply_stream,
)
from luma.errors import LumaError

logger = logging.getLogger(__name__)

# Replies spend their time waiting on the model server, so each gets its own
# thread; asyncio's default pool (cores + 4) would queue all but a few.
_reply_threads = ThreadPoolExecutor(
    max_workers=settings.LUMA_CHAT_REPLY_THREADS, thread_name_prefix="chat-reply"
)

NOT_LOGGED_IN = 4401
# What a client may send; any logged-in account may send both, on its own conversations.
MESSAGE_TYPES = ("send", "stop")


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
        elif kind == "send":
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
        """Run the (blocking) conversation service in a worker thread and relay its events."""
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def emit(event: dict[str, Any] | None) -> None:
            loop.call_soon_threadsafe(outbox.put_nowait, event)

        worker = loop.run_in_executor(_reply_threads, self._run_service, content, emit)
        while (event := await outbox.get()) is not None:
            await self.send_json(event)
            if event["type"] in {"user_message", "done"}:
                await self.channel_layer.group_send(
                    self.user_group,
                    {
                        "type": "conversation.updated",
                        "conversation_id": event["conversation_id"],
                        "sender": self.channel_name,
                    },
                )
        await worker

    def _run_service(self, content: dict[str, Any], emit: Any) -> None:
        close_old_connections()
        try:
            raw_id = content.get("conversation_id")
            conversation = conversation_for_owner(
                owner=self.scope["user"], conversation_id=int(raw_id) if raw_id else None
            )
            speaker = Speaker(user=self.scope["user"], channel=Channel.WEB)
            events = conversation_reply_stream(
                conversation=conversation,
                speaker=speaker,
                text=str(content.get("text", "")),
                should_stop=self.stop_requested.is_set,
                resend_of=int(content["resend_of"]) if content.get("resend_of") else None,
            )
            for event in events:
                emit(_as_json(event))
        except LumaError as error:
            emit({"type": "error", "message": error.message, **error.context})
        except (TypeError, ValueError):
            emit({"type": "error", "message": "conversation_id must be a number."})
        except Exception:
            logger.exception("The chat reply failed")
            emit({"type": "error", "message": "Something went wrong on the server. Try again."})
        finally:
            close_old_connections()
            emit({"type": "idle"})  # ready for the next message
            emit(None)


def _as_json(event: object) -> dict[str, Any]:
    if isinstance(event, str):
        return {"type": "token", "text": event}
    if isinstance(event, UserMessageStored):
        message = event.message
        return {
            "type": "user_message",
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "content": message.content,
        }
    assert isinstance(event, ReplyStored)
    reply = event.message
    return {
        "type": "done",
        "id": reply.pk,
        "conversation_id": reply.conversation_id,
        "content": reply.content,
        "html": markdown_to_safe_html(reply.content),
        "provider": reply.provider,
        "model": reply.model,
        "stopped": event.stopped,
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "estimated": reply.usage_estimated,
        },
        "memories": [
            {"id": memory.pk, "content": memory.content, "source": memory.source}
            for memory in event.memories
        ],
    }
