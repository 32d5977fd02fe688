from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from chat.markdown import markdown_to_safe_html
from chat.models import Channel, Conversation, Message
from chat.selectors import conversation_messages, conversations_of
from chat.services import (
    Speaker,
    conversation_delete,
    conversation_for_owner,
    conversation_reply,
)
from luma.schemas import InputSchema
from memories.models import Memory

router = Router()


class ChatIn(InputSchema):
    message: str = Field(..., min_length=1, max_length=settings.LUMA_MAX_MESSAGE_CHARS)
    conversation_id: int | None = None


class UsageOut(Schema):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool


class ChatOut(Schema):
    conversation_id: int
    user_message_id: int
    message_id: int
    reply: str
    provider: str
    model: str
    usage: UsageOut
    memory_ids: list[int]


@router.post(
    "",
    response=ChatOut,
    summary="Send a message and get the persona's reply",
    description="Without `conversation_id` a new conversation starts. If the provider fails, "
    "the message is kept and the error names the conversation so it can be resent.",
)
def chat_send(request: HttpRequest, payload: ChatIn) -> dict:
    conversation = conversation_for_owner(
        owner=request.user, conversation_id=payload.conversation_id
    )
    speaker = Speaker(user=request.user, channel=Channel.API)
    done = conversation_reply(conversation=conversation, speaker=speaker, text=payload.message)
    reply = done.message
    return {
        "conversation_id": conversation.pk,
        "user_message_id": done.user_message.pk,
        "message_id": reply.pk,
        "reply": reply.content,
        "provider": reply.provider,
        "model": reply.model,
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.total_tokens,
            "estimated": reply.usage_estimated,
        },
        "memory_ids": [memory.pk for memory in done.memories],
    }


class ConversationOut(Schema):
    id: int
    title: str
    channel: str
    created_at: datetime
    updated_at: datetime


class UsedMemoryOut(Schema):
    id: int
    content: str
    source: str


class MessageOut(Schema):
    id: int
    role: str
    content: str
    author_name: str
    provider: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    usage_estimated: bool
    created_at: datetime
    memory_ids: list[int]
    html: str = Field("", description="An assistant reply's Markdown as sanitised HTML")
    memories: list[UsedMemoryOut] = Field(default_factory=list, description="Memories it used")

    @staticmethod
    def resolve_memory_ids(message: Message) -> list[int]:
        return [memory.pk for memory in message.memories_used.all()]

    @staticmethod
    def resolve_html(message: Message) -> str:
        return markdown_to_safe_html(message.content) if message.role == "assistant" else ""

    @staticmethod
    def resolve_memories(message: Message) -> list[Memory]:
        return list(message.memories_used.all())


@router.get("/conversations", response=list[ConversationOut], summary="Your conversations")
@paginate
def conversation_list(request: HttpRequest) -> QuerySet[Conversation]:
    return conversations_of(owner=request.user)


@router.get(
    "/conversations/{conversation_id}/messages",
    response=list[MessageOut],
    summary="The messages of one of your conversations, oldest first",
)
def conversation_message_list(request: HttpRequest, conversation_id: int) -> list[Message]:
    return conversation_messages(owner=request.user, conversation_id=conversation_id)


@router.delete(
    "/conversations/{conversation_id}", response={204: None}, summary="Delete a conversation"
)
def conversation_remove(request: HttpRequest, conversation_id: int) -> Status:
    conversation_delete(owner=request.user, conversation_id=conversation_id)
    return Status(204, None)
