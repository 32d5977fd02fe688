"""Every reply's progress, sent to the overlays over the channel layer.

`OverlayPublisher` is a reply observer (`chat.services.reply_observer_add`): it runs on
the reply's thread, sends the question when it is stored, the reply as it grows (at
most every `INTERVAL` seconds, the whole text so far, so that an overlay that opens
mid-reply catches up and a blocked word split across tokens is masked whole), and the
end. The blocklist masks both on the way out. Nothing listens? The channel layer drops
the message; a failure is logged by the conversation service and the reply goes on.
"""

import asyncio
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.models import Conversation, Message
from chat.services import ReplyContinues, ReplyEvent, ReplyStored, Speaker, UserMessageStored
from luma.services import runtime_settings_get
from overlay.moderation import StreamFilter
from overlay.services import OVERLAY_GROUP, stream_filter_get
from persona.selectors import persona_get
from providers.reasoning import ReplyWasReasoning

INTERVAL = 0.15
_pending: set[asyncio.Task[None]] = set()  # sends started from async code, kept alive
QUESTION_CHARS = 500


class OverlayPublisher:
    def __init__(self, conversation: Conversation, speaker: Speaker) -> None:
        self.layer = get_channel_layer()
        self.surface = str(speaker.channel)
        self.reply_id = f"{conversation.pk}-{time.monotonic_ns()}"
        self.text = ""
        self.sent_at = 0.0
        self.finished = False
        self.started = False
        self.filter: StreamFilter | None = None

    def __call__(self, event: ReplyEvent | None) -> None:
        if self.layer is None:
            return
        if isinstance(event, UserMessageStored):
            self._start(event.message.author_name or "someone", event.message.content)
        elif isinstance(event, ReplyContinues):
            self.text = event.message.content
            self._start("", "")
        elif getattr(event, "message", None) is not None and not isinstance(event, ReplyStored):
            self._start_again(event.message)  # a new version of a reply (Regenerate)
        elif isinstance(event, ReplyWasReasoning):
            self.text = ""
        elif isinstance(event, str):
            self.text += event
            if time.monotonic() - self.sent_at >= INTERVAL:
                self._send("overlay.reply", text=self.text)
        elif isinstance(event, ReplyStored):
            if event.together:
                self.finished = True  # an earlier reply answered it: nothing to show
                self._send("overlay.end", text="")
                return
            self.finished = True
            self._send("overlay.done", text=event.message.content)
        elif event is None and not self.finished and self.started:
            self._send("overlay.end", text="")

    def _start(self, name: str, question: str) -> None:
        row = runtime_settings_get()
        self.filter = stream_filter_get(row)
        self.started = True
        persona = persona_get()
        self._send(
            "overlay.question",
            name=name,
            question=self._masked(question[:QUESTION_CHARS]),
            persona=persona.name,
            avatar_url=getattr(persona, "avatar_url", "") or "",
            text=self._masked(self.text),
        )

    def _start_again(self, reply: Message) -> None:
        question = reply.reply_to
        self.text = ""
        if question is None:
            self._start("", "")
        else:
            self._start(question.author_name or "someone", question.content)

    def _masked(self, text: str) -> str:
        return self.filter.masked(text) if self.filter is not None and text else text

    def _send(self, kind: str, **fields: Any) -> None:
        if not self.started:
            return
        self.sent_at = time.monotonic()
        if "text" in fields:
            fields["text"] = self._masked(fields["text"])
        message = {"type": kind, "reply_id": self.reply_id, "surface": self.surface, **fields}
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(self.layer.group_send)(OVERLAY_GROUP, message)
        else:  # called from async code: do not block its loop
            task = loop.create_task(self.layer.group_send(OVERLAY_GROUP, message))
            _pending.add(task)
            task.add_done_callback(_pending.discard)
