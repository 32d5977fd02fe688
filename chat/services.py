"""The conversation service: the one code path every chat surface calls.

Web chat, Discord and the JSON API all go through `conversation_reply_stream`:
store the user's message, build the prompt (persona, memories, history), call
the provider, stream the reply, store it with its usage.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from chat.models import Channel, Conversation, Message, Role
from chat.suggestions import memory_suggestions_request
from luma.errors import LumaError, NotFound
from luma.models import RuntimeSettings
from luma.ratelimit import rate_limit_check
from luma.services import runtime_settings_get
from memories.models import Memory
from memories.selectors import memories_for_prompt
from memories.services import memories_mark_used
from providers.base import ChatMessage, Usage, estimate_tokens, estimate_usage
from providers.errors import ProviderError
from providers.registry import provider_model, provider_prompt_budget
from providers.resilience import Answering, reply_stream

logger = logging.getLogger(__name__)


class InvalidMessage(LumaError):
    pass


@dataclass(frozen=True)
class Speaker:
    """Who is talking: a web user, or a Discord user (by id and display name)."""

    user: AbstractBaseUser | None = None
    discord_id: str = ""
    name: str = ""
    channel: str = Channel.WEB

    @property
    def rate_key(self) -> str:
        return f"user-{self.user.pk}" if self.user is not None else f"discord-{self.discord_id}"

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return self.user.get_username() if self.user is not None else "someone"


@dataclass(frozen=True)
class UserMessageStored:
    message: Message


@dataclass(frozen=True)
class ReplyStored:
    user_message: Message
    message: Message
    memories: list[Memory]
    stopped: bool = False  # the user stopped the reply; `message` holds what came before


ReplyEvent = UserMessageStored | str | ReplyStored


def conversation_start(
    *, owner: AbstractBaseUser | None, channel: str = Channel.WEB
) -> Conversation:
    return Conversation.objects.create(owner=owner, channel=channel)


def conversation_for_owner(*, owner: AbstractBaseUser, conversation_id: int | None) -> Conversation:
    """The user's conversation with this id, or a new one when no id is given."""
    if conversation_id is None:
        return conversation_start(owner=owner)
    found = Conversation.objects.filter(pk=conversation_id, owner=owner).first()
    if found is None:
        raise NotFound(f"Conversation {conversation_id} does not exist.")
    return found


def conversation_delete(*, owner: AbstractBaseUser, conversation_id: int) -> None:
    deleted, _ = Conversation.objects.filter(pk=conversation_id, owner=owner).delete()
    if not deleted:
        raise NotFound(f"Conversation {conversation_id} does not exist.")


def conversation_for_discord_channel(*, channel_id: str, title: str = "") -> Conversation:
    conversation, _ = Conversation.objects.get_or_create(
        discord_channel_id=channel_id,
        defaults={"channel": Channel.DISCORD, "title": title[:200]},
    )
    return conversation


def _system_prompt(row: RuntimeSettings, speaker: Speaker, memories: list[Memory]) -> str:
    parts = [row.persona_prompt.strip(), f"You are talking with {speaker.display_name}."]
    if memories:
        lines = "\n".join(f"- {memory.content}" for memory in memories)
        parts.append(f"Things you remember:\n{lines}")
    return "\n\n".join(parts)


def _history(conversation: Conversation, budget: int) -> list[ChatMessage]:
    """The newest messages that fit in `budget` tokens, oldest first."""
    chosen: list[ChatMessage] = []
    for message in conversation.messages.order_by("-created_at", "-pk")[:100]:
        content = message.content
        if conversation.channel == Channel.DISCORD and message.role == Role.USER:
            content = f"{message.author_name}: {content}"
        cost = estimate_tokens(content) + 4
        if cost > budget:
            break
        budget -= cost
        chosen.append({"role": message.role, "content": content})
    chosen.reverse()
    return chosen


def prompt_build(
    *, row: RuntimeSettings, conversation: Conversation, speaker: Speaker, text: str
) -> tuple[list[ChatMessage], list[Memory]]:
    """The messages to send (persona, memories, history ending with `text`)."""
    budget = provider_prompt_budget(row)
    memories = memories_for_prompt(
        query=text,
        user=speaker.user,
        discord_id=speaker.discord_id,
        limit=row.memory_context_limit,
        token_budget=budget // 3,
    )
    system = _system_prompt(row, speaker, memories)
    history = _history(conversation, budget - estimate_tokens(system))
    return [{"role": "system", "content": system}, *history], memories


def message_store_user(*, conversation: Conversation, speaker: Speaker, text: str) -> Message:
    text = text.strip()
    if not text:
        raise InvalidMessage("The message is empty.")
    if "\x00" in text:
        raise InvalidMessage(
            "The message contains a NUL (\\x00) character, which cannot be stored."
        )
    if len(text) > settings.LUMA_MAX_MESSAGE_CHARS:
        raise InvalidMessage(
            f"The message is too long ({len(text)} characters; the limit is "
            f"{settings.LUMA_MAX_MESSAGE_CHARS})."
        )
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            role=Role.USER,
            content=text,
            author_user=speaker.user,
            author_discord_id=speaker.discord_id,
            author_name=speaker.display_name,
            channel=speaker.channel,
        )
        if not conversation.title:
            conversation.title = text[:60]
        conversation.save(update_fields=["title", "updated_at"])
    return message


def _message_unanswered(*, conversation: Conversation, message_id: int) -> Message:
    """The conversation's last message, if it is this user message (not yet answered)."""
    last = conversation.messages.order_by("-created_at", "-pk").first()
    if last is None or last.pk != message_id or last.role != Role.USER:
        raise InvalidMessage("Only the last, unanswered message can be sent again.")
    return last


@transaction.atomic
def message_store_reply(
    *,
    conversation: Conversation,
    speaker: Speaker,
    text: str,
    provider: str,
    model: str,
    usage: Usage,
    memories: list[Memory],
) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        role=Role.ASSISTANT,
        content=text.replace("\x00", ""),  # garbage from a model; no database stores it
        channel=speaker.channel,
        provider=provider,
        model=model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        usage_estimated=usage.estimated,
    )
    message.memories_used.set(memories)
    memories_mark_used(memories=memories)
    conversation.save(update_fields=["updated_at"])
    return message


def _never() -> bool:
    return False


def conversation_reply_stream(
    *,
    conversation: Conversation,
    speaker: Speaker,
    text: str,
    should_stop: Callable[[], bool] = _never,
    resend_of: int | None = None,
) -> Iterator[ReplyEvent]:
    """Store the user's message, then stream the persona's reply and store it.

    Yields `UserMessageStored` first, then text chunks, then `ReplyStored`.
    A provider failure raises `ProviderError` after the user's message is
    safely stored; nothing of the failed reply is kept. When `should_stop()`
    turns true the provider's stream is closed and what came so far is kept.
    `resend_of` answers an already stored, unanswered user message again
    instead of storing `text` a second time.
    """
    rate_limit_check(scope="chat", who=speaker.rate_key, rate=settings.LUMA_CHAT_RATE)
    if resend_of is None:
        user_message = message_store_user(conversation=conversation, speaker=speaker, text=text)
    else:
        user_message = _message_unanswered(conversation=conversation, message_id=resend_of)
        text = user_message.content
    yield UserMessageStored(user_message)
    row = runtime_settings_get()
    messages, memories = prompt_build(
        row=row, conversation=conversation, speaker=speaker, text=text
    )
    chunks: list[str] = []
    usage: Usage | None = None
    stopped = False
    answering = Answering(row.provider, provider_model(row))
    try:
        stream = reply_stream(row, messages)
        for item in stream:
            if isinstance(item, Answering):
                answering = item
            elif isinstance(item, Usage):
                usage = item
            elif should_stop():
                stopped = True
                stream.close()
                break
            else:
                chunks.append(item)
                yield item
    except ProviderError as error:
        logger.warning("Provider %s failed: %s (%s)", row.provider, error.message, error.detail)
        error.context.update(
            {"conversation_id": conversation.pk, "user_message_id": user_message.pk}
        )
        raise
    reply = "".join(chunks).strip()
    if stopped:
        usage = estimate_usage(messages, reply)
        if not reply:
            return
    if not reply:
        raise ProviderError(
            "The model sent an empty reply. Try again, or pick another model in Settings.",
            context={"conversation_id": conversation.pk, "user_message_id": user_message.pk},
        )
    assert usage is not None  # every stream ends with its Usage
    stored = message_store_reply(
        conversation=conversation,
        speaker=speaker,
        text=reply,
        provider=answering.provider,
        model=answering.model,
        usage=usage,
        memories=memories,
    )
    # Off the reply's path: a background task (the reply is complete and stored).
    memory_suggestions_request(reply=stored)
    yield ReplyStored(user_message, stored, memories, stopped)


def conversation_reply(
    *, conversation: Conversation, speaker: Speaker, text: str, resend_of: int | None = None
) -> ReplyStored:
    """The same as `conversation_reply_stream`, for callers that want only the end."""
    events = conversation_reply_stream(
        conversation=conversation, speaker=speaker, text=text, resend_of=resend_of
    )
    for event in events:
        if isinstance(event, ReplyStored):
            return event
    raise AssertionError("a reply stream always ends with ReplyStored")
