"""The conversation service: the one code path every chat surface calls.

Web chat, Discord and the JSON API all go through `conversation_reply_stream`:
store the user's message, build the prompt (persona, memories, history), call
the provider, stream the reply, store it with its usage.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from chat.models import Channel, Conversation, Message, ReplyStatus, Role
from chat.suggestions import memory_suggestions_request
from chat.turns import conversation_turn
from luma.errors import LumaError, NotFound
from luma.models import RuntimeSettings
from luma.ratelimit import rate_limit_check
from luma.services import runtime_settings_get
from memories.models import Memory
from memories.selectors import memories_for_prompt
from memories.services import memories_mark_used
from providers.base import ChatMessage, Reasoning, Usage, estimate_tokens, estimate_usage
from providers.errors import ContextTooLong, EmptyReply, ProviderError
from providers.failures import quoted
from providers.reasoning import ReplyWasReasoning
from providers.registry import provider_prompt_budget
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
class ReplyContinues:
    """A Continue request started: the chunks that follow extend `message`."""

    message: Message


@dataclass(frozen=True)
class ReplyStored:
    """The stored reply. `together`: it was written for an earlier message and
    answered this one too (they arrived at the same moment, or after a failure)."""

    user_message: Message
    message: Message
    memories: list[Memory]
    together: bool = False

    @property
    def stopped(self) -> bool:
        return self.message.status == ReplyStatus.STOPPED


ReplyEvent = UserMessageStored | ReplyContinues | str | Reasoning | ReplyWasReasoning | ReplyStored

# The turn a Continue request adds after the cut-off reply (not stored).
CONTINUE_PROMPT = (
    "Continue your last message exactly where it stopped, without repeating any of it."
)


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
        lines = "\n".join(f"- {memory.prompt_text}" for memory in memories)
        parts.append(f"Things you remember:\n{lines}")
    return "\n\n".join(parts)


def _history(conversation: Conversation, budget: int) -> list[ChatMessage]:
    """The newest messages that fit in `budget` tokens as alternating turns, oldest first.

    Each reply sits right after the newest user message it answered (`reply_to`),
    whenever it was stored. Consecutive messages of one role (a message whose reply
    failed, messages that arrived together) are merged into one turn, and a turn
    the persona would open is dropped, so the prompt always reads user, assistant,
    user… after the system message, as strict chat templates require.
    """
    rows = conversation.messages.answer_order().reverse()[:100]
    chosen: list[tuple[str, str]] = []
    for message in rows:
        content = message.content
        if conversation.channel == Channel.DISCORD and message.role == Role.USER:
            content = f"{message.author_name}: {content}"
        cost = estimate_tokens(content) + 4
        if cost > budget:
            if not chosen:  # the message to answer always goes, its end if need be
                chosen.append((message.role, "…" + content[-max(budget - 4, 16) * 4 :]))
            break
        budget -= cost
        chosen.append((message.role, content))
    turns: list[ChatMessage] = []
    for role, content in reversed(chosen):
        if turns and turns[-1]["role"] == role:
            turns[-1] = {"role": role, "content": f"{turns[-1]['content']}\n\n{content}"}
        elif turns or role == Role.USER:
            turns.append({"role": role, "content": content})
    return turns


def prompt_build(
    *,
    row: RuntimeSettings,
    conversation: Conversation,
    speaker: Speaker,
    text: str,
    budget: int | None = None,
) -> tuple[list[ChatMessage], list[Memory]]:
    """The messages to send (persona, memories, history ending with `text`), within
    `budget` tokens (the provider's prompt budget by default)."""
    budget = budget or provider_prompt_budget(row)
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


def _reply_covering(conversation: Conversation, user_message: Message) -> Message | None:
    """The reply that answered `user_message` (it answers every user message up to
    its `reply_to`), or None while it is unanswered."""
    return (
        conversation.messages.filter(role=Role.ASSISTANT, reply_to_id__gte=user_message.pk)
        .order_by("pk")
        .first()
    )


def _message_to_resend(conversation: Conversation, message_id: int) -> Message:
    message = conversation.messages.filter(pk=message_id, role=Role.USER).first()
    if message is None or _reply_covering(conversation, message) is not None:
        raise InvalidMessage("Only a message that has no reply yet can be sent again.")
    return message


def _reply_to_continue(conversation: Conversation, message_id: int) -> Message:
    last = conversation.messages.answer_order().last()
    if last is None or last.pk != message_id or last.role != Role.ASSISTANT:
        raise InvalidMessage("Only the last reply can be continued.")
    if last.status == ReplyStatus.COMPLETE:
        raise InvalidMessage("This reply is complete; there is nothing to continue.")
    return last


@dataclass
class _Streamed:
    """What a provider stream gave: the reply's text, its reasoning, how it ended."""

    chunks: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    started: float = 0.0  # when the request went out (time.monotonic)
    reasoning_started: float | None = None
    reasoning_seconds: float | None = None
    usage: Usage | None = None
    answering: Answering | None = None
    stopped: bool = False
    interrupted: bool = False  # the provider failed after some text
    prompt: list[ChatMessage] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)

    def text(self, *, continuation: bool = False) -> tuple[str, str]:
        """(reply, reasoning). A continuation keeps its leading space: it is glued to
        the text it continues."""
        joined = "".join(self.chunks)
        return joined.rstrip() if continuation else joined.strip(), "".join(self.reasoning).strip()

    def final_usage(self, text: str) -> Usage:
        """The server's count, or an estimate when it sent none or the reply was stopped."""
        if self.usage is None or self.stopped:
            return estimate_usage(self.prompt, text)
        return self.usage

    def recast_as_reasoning(self) -> None:
        """The reply text so far was thinking (`ReplyWasReasoning`)."""
        self.reasoning[:0] = self.chunks
        self.chunks.clear()
        self.reasoning_started = self.reasoning_started or self.started

    def status(self) -> str:
        if self.interrupted:
            return ReplyStatus.INTERRUPTED
        if self.stopped:
            return ReplyStatus.STOPPED
        if self.usage is not None and self.usage.finish_reason == "length":
            return ReplyStatus.LENGTH
        return ReplyStatus.COMPLETE


def _stream(
    row: RuntimeSettings,
    messages: list[ChatMessage],
    streamed: _Streamed,
    should_stop: Callable[[], bool],
) -> Iterator[str | Reasoning | ReplyWasReasoning]:
    """Relay the provider's reply and reasoning, recording them in `streamed`."""
    streamed.started = time.monotonic()
    stream = reply_stream(row, messages)
    for item in stream:
        if isinstance(item, Answering):
            streamed.answering = item
        elif isinstance(item, Usage):
            streamed.usage = item
        elif should_stop():
            streamed.stopped = True
            stream.close()
            return
        elif isinstance(item, ReplyWasReasoning):
            streamed.recast_as_reasoning()
            yield item
        elif isinstance(item, Reasoning):
            if streamed.reasoning_started is None:
                streamed.reasoning_started = time.monotonic()
            streamed.reasoning.append(item.text)
            yield item
        else:
            if streamed.reasoning_started is not None and streamed.reasoning_seconds is None:
                streamed.reasoning_seconds = time.monotonic() - streamed.reasoning_started
            streamed.chunks.append(item)
            yield item


def _stream_with_context_retry(
    row: RuntimeSettings,
    prompt: Callable[[int | None], tuple[list[ChatMessage], list[Memory]]],
    streamed: _Streamed,
    should_stop: Callable[[], bool],
) -> Iterator[str | Reasoning | ReplyWasReasoning]:
    """Stream a reply; when the server says the prompt is too long for its context,
    try once more with half the budget (older history and fewer memories left out)."""
    messages, memories = prompt(None)
    streamed.prompt = messages
    streamed.memories = memories
    try:
        yield from _stream(row, messages, streamed, should_stop)
    except ContextTooLong:
        if streamed.chunks or streamed.reasoning:
            raise
        logger.info("The prompt was too long for the model; retrying with a shorter history")
        messages, memories = prompt(provider_prompt_budget(row) // 2)
        streamed.prompt = messages
        streamed.memories = memories
        yield from _stream(row, messages, streamed, should_stop)


@transaction.atomic
def message_store_reply(
    *,
    conversation: Conversation,
    speaker: Speaker,
    reply_to: Message,
    streamed: _Streamed,
    text: str,
    reasoning: str,
) -> Message:
    """Store a reply (or a reply cut short: `streamed.status()` says how it ended)."""
    answering = streamed.answering
    usage = streamed.final_usage(text)
    message = Message.objects.create(
        conversation=conversation,
        role=Role.ASSISTANT,
        content=text.replace("\x00", ""),  # garbage from a model; no database stores it
        reasoning=reasoning.replace("\x00", ""),
        reasoning_seconds=streamed.reasoning_seconds,
        status=streamed.status(),
        reply_to=reply_to,
        channel=speaker.channel,
        provider=answering.provider if answering else "",
        model=answering.model if answering else "",
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        usage_estimated=usage.estimated,
    )
    message.memories_used.set(streamed.memories)
    memories_mark_used(memories=streamed.memories)
    conversation.save(update_fields=["updated_at"])
    return message


@transaction.atomic
def message_extend_reply(
    *, message: Message, streamed: _Streamed, text: str, reasoning: str
) -> Message:
    """Append a Continue request's text to the reply it continues."""
    usage = streamed.final_usage(text)
    message.content = (message.content + text).replace("\x00", "")
    if reasoning:
        message.reasoning = "\n\n".join(p for p in (message.reasoning, reasoning) if p)
    message.status = streamed.status()
    message.prompt_tokens = (message.prompt_tokens or 0) + usage.prompt_tokens
    message.completion_tokens = (message.completion_tokens or 0) + usage.completion_tokens
    message.usage_estimated = message.usage_estimated or usage.estimated
    message.save()
    message.conversation.save(update_fields=["updated_at"])
    return message


def _empty_reply_error(row: RuntimeSettings, streamed: _Streamed) -> ProviderError:
    if streamed.reasoning or streamed.status() == ReplyStatus.LENGTH:
        return EmptyReply(
            "The model used its whole reply on thinking and gave no answer. Raise "
            f"Max tokens in Settings (now {row.max_tokens}) and send again."
        )
    return EmptyReply(
        "The model sent an empty reply. Try again, or pick another model in Settings."
    )


def _never() -> bool:
    return False


def conversation_reply_stream(
    *,
    conversation: Conversation,
    speaker: Speaker,
    text: str = "",
    should_stop: Callable[[], bool] = _never,
    resend_of: int | None = None,
    continue_of: int | None = None,
) -> Iterator[ReplyEvent]:
    """Store the user's message, then stream the persona's reply and store it.

    Yields `UserMessageStored` first (`ReplyContinues` for `continue_of`), then
    reply text chunks and `Reasoning` pieces, then `ReplyStored`. Replies of one
    conversation are written one at a time (`chat.turns`): a message that arrived
    while another reply was being written is answered next, together with any
    other message that has no reply yet; one already answered that way ends with
    `ReplyStored(together=True)` at once.

    A provider failure before any text raises `ProviderError`, with the user's
    message stored and still unanswered (`resend_of` answers it later; the next
    message answers it too). After some text, what came is stored as an
    interrupted reply (yielded as `ReplyStored`) before the error is raised.
    When `should_stop()` turns true what came so far is kept as a stopped reply.
    `continue_of` extends a reply that did not end complete.
    """
    rate_limit_check(scope="chat", who=speaker.rate_key, rate=settings.LUMA_CHAT_RATE)
    continued: Message | None = None
    if continue_of is not None:
        continued = _reply_to_continue(conversation, continue_of)
        user_message = continued.reply_to or conversation.messages.filter(role=Role.USER).last()
        yield ReplyContinues(continued)
    elif resend_of is not None:
        user_message = _message_to_resend(conversation, resend_of)
        yield UserMessageStored(user_message)
    else:
        user_message = message_store_user(conversation=conversation, speaker=speaker, text=text)
        yield UserMessageStored(user_message)
    with conversation_turn(conversation.pk, should_stop=should_stop):
        if continued is None and (done := _reply_covering(conversation, user_message)):
            yield ReplyStored(user_message, done, list(done.memories_used.all()), together=True)
            return
        yield from _reply(conversation, speaker, user_message, continued, should_stop)


def _reply(
    conversation: Conversation,
    speaker: Speaker,
    user_message: Message,
    continued: Message | None,
    should_stop: Callable[[], bool],
) -> Iterator[ReplyEvent]:
    """Write and store the reply to every unanswered message up to the newest one."""
    row = runtime_settings_get()
    newest = conversation.messages.filter(role=Role.USER).order_by("-pk").first() or user_message
    reply_to = continued.reply_to if continued is not None else newest

    def prompt(budget: int | None) -> tuple[list[ChatMessage], list[Memory]]:
        messages, memories = prompt_build(
            row=row, conversation=conversation, speaker=speaker, text=reply_to.content,
            budget=budget,
        )  # fmt: skip
        if continued is not None:
            messages.append({"role": "user", "content": CONTINUE_PROMPT})
        return messages, memories

    streamed = _Streamed()
    context = {"conversation_id": conversation.pk, "user_message_id": user_message.pk}
    try:
        yield from _stream_with_context_retry(row, prompt, streamed, should_stop)
    except ProviderError as error:
        logger.warning("Provider %s failed: %s (%s)", row.provider, error.message, error.detail)
        error.context.update(context)
        if not streamed.chunks:
            raise
        streamed.interrupted = True
        stored = _store(conversation, speaker, reply_to, continued, streamed)
        yield stored
        broke_off = ProviderError(
            f"The reply broke off in the middle{quoted(error.detail or error.message)}. What "
            "came before it is kept.",
            detail=error.message,
            context={**error.context, "reply_id": stored.message.pk},
        )
        broke_off.viewer_message = "The reply broke off in the middle. What came before it is kept."
        raise broke_off from error
    reply, _ = streamed.text()
    if not reply and streamed.stopped:
        return
    if not reply and continued is None:
        error = _empty_reply_error(row, streamed)
        error.context.update(context)
        raise error
    stored = _store(conversation, speaker, reply_to, continued, streamed)
    # Off the reply's path: a background task (the reply is complete and stored).
    memory_suggestions_request(reply=stored.message)
    yield stored


def _store(
    conversation: Conversation,
    speaker: Speaker,
    reply_to: Message,
    continued: Message | None,
    streamed: _Streamed,
) -> ReplyStored:
    text, reasoning = streamed.text(continuation=continued is not None)
    if continued is not None:
        message = message_extend_reply(
            message=continued, streamed=streamed, text=text, reasoning=reasoning
        )
        memories = list(message.memories_used.all())
    else:
        message = message_store_reply(
            conversation=conversation, speaker=speaker, reply_to=reply_to, streamed=streamed,
            text=text, reasoning=reasoning,
        )  # fmt: skip
        memories = streamed.memories
    return ReplyStored(reply_to, message, memories)


def conversation_reply(
    *,
    conversation: Conversation,
    speaker: Speaker,
    text: str = "",
    resend_of: int | None = None,
    continue_of: int | None = None,
) -> ReplyStored:
    """The same as `conversation_reply_stream`, for callers that want only the end."""
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=speaker,
        text=text,
        resend_of=resend_of,
        continue_of=continue_of,
    )
    for event in events:
        if isinstance(event, ReplyStored):
            return event
    raise AssertionError("a reply stream always ends with ReplyStored")
