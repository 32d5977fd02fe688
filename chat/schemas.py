"""How a chat message looks on every surface: one shape, `MessageOut`.

The API's history and `POST /api/chat`, the WebSocket's `user_message` and `done`
events and the Discord bot all serialise a message with `message_out`.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from ninja import Schema
from pydantic import Field

from chat.markdown import markdown_to_safe_html
from chat.models import Message, Role
from chat.selectors import reply_versions
from luma.schemas import InputSchema
from memories.models import Memory


class ChatIn(InputSchema):
    message: str = Field(..., min_length=1, max_length=settings.LUMA_MAX_MESSAGE_CHARS)
    conversation_id: int | None = None


class UsageOut(Schema):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    estimated: bool = Field(description="The provider reported no usage: the counts are estimates")


class UsedMemoryOut(Schema):
    id: int
    content: str
    source: str


class MessageOut(Schema):
    id: int
    conversation_id: int
    role: str
    content: str
    author_name: str
    provider: str
    model: str
    created_at: datetime
    html: str = Field(
        description="An assistant reply's Markdown as sanitised HTML; empty otherwise"
    )
    usage: UsageOut | None = Field(description="A reply's tokens; null for a person's message")
    status: str = Field(
        description="How a reply ended: complete, stopped, length (cut off by the max-tokens "
        "limit) or interrupted (the provider failed mid-reply); complete for a person's message"
    )
    reasoning: str = Field(description="A reasoning model's thinking, kept apart from content")
    reasoning_seconds: float | None = Field(description="How long the model thought")
    memories: list[UsedMemoryOut] = Field(description="The memories a reply used")
    versions: list[int] = Field(
        description="A reply's versions (regenerated replies), oldest first, by id: this "
        "message is the chosen one. A person's message has one, its own id"
    )


class ChatOut(MessageOut):
    """The reply, and the message it answers. `message_id`, `reply` and `memory_ids`
    repeat `id`, `content` and the memories' ids, as version 1 of the API had them."""

    user_message_id: int
    message_id: int
    reply: str
    memory_ids: list[int]


class MessageEditIn(InputSchema):
    message: str = Field(..., min_length=1, max_length=settings.LUMA_MAX_MESSAGE_CHARS)


class ConversationRenameIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)


class ConversationOut(Schema):
    id: int
    title: str
    channel: str
    created_at: datetime
    updated_at: datetime
    snippet: str = Field(
        "", description="With `q`: the words around the first match in the messages, if any"
    )

    @staticmethod
    def resolve_snippet(conversation: Any) -> str:
        return snippet(
            getattr(conversation, "match", None) or "", getattr(conversation, "query", "")
        )


SNIPPET_CHARS = 120


def snippet(text: str, query: str) -> str:
    """About `SNIPPET_CHARS` of `text` around the first `query` in it."""
    at = text.lower().find(query.lower()) if query else -1
    if at < 0:
        return ""
    start = max(0, at - SNIPPET_CHARS // 3)
    piece = " ".join(text[start : start + SNIPPET_CHARS].split())
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")


def message_out(message: Message, *, memories: Iterable[Memory] | None = None) -> dict[str, Any]:
    """`message` as `MessageOut` data. `memories`: those a reply used, when known
    (a reply just stored); otherwise they are read from the database."""
    reply = message.role == Role.ASSISTANT
    used = list(memories if memories is not None else message.memories_used.all())
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "role": message.role,
        "content": message.content,
        "author_name": message.author_name,
        "provider": message.provider,
        "model": message.model,
        "created_at": message.created_at,
        "html": markdown_to_safe_html(message.content) if reply else "",
        "usage": _usage(message) if reply else None,
        "status": message.status,
        "reasoning": message.reasoning,
        "reasoning_seconds": message.reasoning_seconds,
        "memories": [{"id": m.pk, "content": m.content, "source": m.source} for m in used],
        "versions": getattr(message, "versions", None) or reply_versions(message=message),
    }


def _usage(message: Message) -> dict[str, Any]:
    return {
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "total_tokens": message.total_tokens,
        "estimated": message.usage_estimated,
    }
