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
from django.db.models.functions import Coalesce

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
from persona.prompt import PersonaPrompt, persona_greeting, persona_prompt
from persona.selectors import persona_get
from providers.base import ChatMessage, Reasoning, Usage, estimate_tokens, estimate_usage
from providers.errors import ContextTooLong, EmptyReply, ProviderError
from providers.failures import quoted
from providers.reasoning import ReplyWasReasoning
from providers.registry import provider_prompt_budget
from providers.resilience import Answering, reply_stream

logger = logging.getLogger(__name__)


# Conversations many people share: each line in the prompt carries its author's name.
SHARED_CHANNELS = (Channel.DISCORD, Channel.TWITCH)


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
class ReplyRegenerates:
    """A Regenerate request started: the chunks that follow are a new version of
    `message` (kept, and chosen again if the new one never comes)."""

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


ReplyEvent = (
    UserMessageStored
    | ReplyContinues
    | ReplyRegenerates
    | str
    | Reasoning
    | ReplyWasReasoning
    | ReplyStored
)

# Observers of every reply, on every surface (the OBS overlay): a factory called with the
# conversation and speaker when a reply starts, giving a callable that receives each event
# and None at the end. Registered by apps above chat (`reply_observer_add`); an observer
# that fails is logged and never fails the reply.
ReplyObserver = Callable[[ReplyEvent | None], None]
_reply_observers: list[Callable[[Conversation, "Speaker"], ReplyObserver]] = []


def reply_observer_add(factory: Callable[[Conversation, "Speaker"], ReplyObserver]) -> None:
    if factory not in _reply_observers:
        _reply_observers.append(factory)


def _observed(
    conversation: Conversation, speaker: "Speaker", events: Iterator[ReplyEvent]
) -> Iterator[ReplyEvent]:
    observers: list[ReplyObserver] = []
    for factory in _reply_observers:
        try:
            observers.append(factory(conversation, speaker))
        except Exception:
            logger.exception("A reply observer failed to start; the reply goes on without it")

    def tell(event: ReplyEvent | None) -> None:
        for observer in observers:
            try:
                observer(event)
            except Exception:
                logger.exception("A reply observer failed; the reply goes on without it")

    try:
        for event in events:
            tell(event)
            yield event
    finally:
        # Closed here, not when garbage collected: the conversation's turn is released
        # at once, even while a logged observer failure still refers to this frame.
        events.close()  # type: ignore[attr-defined]
        tell(None)


# The turn a Continue request adds after the cut-off reply (not stored).
CONTINUE_PROMPT = (
    "Continue your last message exactly where it stopped, without repeating any of it."
)


def conversation_start(
    *, owner: AbstractBaseUser | None, channel: str = Channel.WEB
) -> Conversation:
    """A new conversation; on the web it opens with the persona's greeting, if any."""
    with transaction.atomic():
        conversation = Conversation.objects.create(owner=owner, channel=channel)
        if channel == Channel.WEB and owner is not None:
            greeting = persona_greeting(persona_get(), user=Speaker(user=owner).display_name)
            if greeting:
                conversation.messages.create(role=Role.ASSISTANT, content=greeting)
    return conversation


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


def conversation_for_twitch_channel(*, channel: str) -> Conversation:
    """The one conversation of a Twitch channel (by its login name, lower case)."""
    name = channel.lstrip("#").lower()
    conversation, _ = Conversation.objects.get_or_create(
        twitch_channel=name, defaults={"channel": Channel.TWITCH, "title": f"Twitch #{name}"}
    )
    return conversation


def conversation_for_discord_channel(*, channel_id: str, title: str = "") -> Conversation:
    conversation, _ = Conversation.objects.get_or_create(
        discord_channel_id=channel_id,
        defaults={"channel": Channel.DISCORD, "title": title[:200]},
    )
    return conversation


def _system_prompt(persona: PersonaPrompt, speaker: Speaker, memories: list[Memory]) -> str:
    parts = [persona.system, f"You are talking with {speaker.display_name}."]
    if memories:
        lines = "\n".join(f"- {memory.prompt_text}" for memory in memories)
        parts.append(f"Things you remember:\n{lines}")
    return "\n\n".join(parts)


def _history(
    conversation: Conversation, budget: int, leave_out: int | None = None
) -> list[ChatMessage]:
    """The newest messages that fit in `budget` tokens as alternating turns, oldest first.

    Each reply sits right after the newest user message it answered (`reply_to`),
    whenever it was stored. Consecutive messages of one role (a message whose reply
    failed, messages that arrived together) are merged into one turn, and a turn
    the persona would open is dropped, so the prompt always reads user, assistant,
    user… after the system message, as strict chat templates require. Of a reply's
    versions only the chosen one goes; `leave_out`: a reply being regenerated.
    """
    rows = conversation.messages.shown().exclude(pk=leave_out).answer_order().reverse()[:100]
    chosen: list[tuple[str, str]] = []
    for message in rows:
        content = message.content
        if conversation.channel in SHARED_CHANNELS and message.role == Role.USER:
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
    leave_out: int | None = None,
) -> tuple[list[ChatMessage], list[Memory]]:
    """The messages to send (persona, memories, history ending with `text`), within
    `budget` tokens (the provider's prompt budget by default); `leave_out`: a reply
    the history skips (the one being regenerated)."""
    budget = budget or provider_prompt_budget(row)
    memories = memories_for_prompt(
        query=text,
        user=speaker.user,
        discord_id=speaker.discord_id,
        limit=row.memory_context_limit,
        token_budget=budget // 3,
    )
    persona = persona_prompt(persona_get(), user=speaker.display_name)
    system = _system_prompt(persona, speaker, memories)
    opening = conversation.messages.order_by("pk").first()
    if opening is not None and opening.role == Role.ASSISTANT:  # the greeting
        system += f"\n\nYou opened this conversation with:\n{opening.content}"
    history = _history(
        conversation,
        budget - estimate_tokens(system) - estimate_tokens(persona.post_history),
        leave_out,
    )
    if persona.post_history and history and history[-1]["role"] == Role.USER:
        # After the history, in the turn to answer (one system message only: strict templates).
        last = history[-1]
        history[-1] = {**last, "content": f"{last['content']}\n\n{persona.post_history}"}
    return [{"role": "system", "content": system}, *history], memories


def message_store_user(*, conversation: Conversation, speaker: Speaker, text: str) -> Message:
    text = message_text_checked(text)
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
        _title_set(conversation, _title_from(text), unless="")
        conversation.save(update_fields=["updated_at"])
    return message


def message_text_checked(text: str) -> str:
    """`text` stripped, or `InvalidMessage` saying why it cannot be sent."""
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
    return text


@transaction.atomic
def message_edit(*, conversation: Conversation, message_id: int, text: str) -> Message:
    """Put `text` in the user message `message_id` and remove every turn after it (the
    replies to it, all their versions, and everything later): it is then answered anew.
    Call it holding the conversation's turn (`chat.turns`)."""
    text = message_text_checked(text)
    message = conversation.messages.filter(pk=message_id, role=Role.USER).first()
    if message is None:
        raise NotFound(f"Message {message_id} does not exist in this conversation.")
    later = conversation.messages.annotate(anchor=Coalesce("reply_to_id", "id"))
    later.filter(anchor__gte=message.pk).exclude(pk=message.pk).delete()
    if not conversation.messages.filter(role=Role.USER, pk__lt=message.pk).exists():
        _title_set(conversation, _title_from(text), unless=_title_from(message.content))
    message.content = text
    message.save(update_fields=["content"])
    conversation.save(update_fields=["updated_at"])
    return message


def _title_set(conversation: Conversation, title: str, *, unless: str) -> None:
    """Name `conversation` after its first message while its title is still `unless`
    (empty, or named after that message): checked in the database, not on this copy,
    which may not know of a rename made in another tab meanwhile."""
    if Conversation.objects.filter(pk=conversation.pk, title=unless).update(title=title):
        conversation.title = title


TITLE_FROM_CHARS = 60


def _title_from(text: str) -> str:
    """A new conversation's title: its first message on one line, cut at a word within
    `TITLE_FROM_CHARS` characters, "…" marking the cut (at a character where a run has
    no spaces, as Chinese or Japanese text has)."""
    text = " ".join(text.split())
    if len(text) <= TITLE_FROM_CHARS:
        return text
    head = text[: TITLE_FROM_CHARS - 1]
    words = head.rsplit(" ", 1)[0] if " " in head[TITLE_FROM_CHARS // 2 :] else head
    return words.rstrip(" ,;:-") + "…"


def _reply_covering(conversation: Conversation, user_message: Message) -> Message | None:
    """The reply that answered `user_message` (it answers every user message up to
    its `reply_to`), or None while it is unanswered."""
    return (
        conversation.messages.shown()
        .filter(role=Role.ASSISTANT, reply_to_id__gte=user_message.pk)
        .order_by("pk")
        .first()
    )


def _message_to_resend(conversation: Conversation, message_id: int) -> Message:
    message = conversation.messages.filter(pk=message_id, role=Role.USER).first()
    if message is None or _reply_covering(conversation, message) is not None:
        raise InvalidMessage("Only a message that has no reply yet can be sent again.")
    return message


def _reply_to_continue(conversation: Conversation, message_id: int) -> Message:
    last = conversation.messages.shown().answer_order().last()
    if last is None or last.pk != message_id or last.role != Role.ASSISTANT:
        raise InvalidMessage("Only the last reply can be continued.")
    if last.status == ReplyStatus.COMPLETE:
        raise InvalidMessage("This reply is complete; there is nothing to continue.")
    return last


def _reply_to_regenerate(conversation: Conversation, message_id: int) -> Message:
    last = conversation.messages.shown().answer_order().last()
    if last is None or last.pk != message_id or last.role != Role.ASSISTANT:
        raise InvalidMessage("Only the last reply can be regenerated.")
    if last.reply_to is None:
        raise InvalidMessage("The greeting answers no message; there is nothing to regenerate.")
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
    # One chosen version per answered message: a regenerated reply's earlier ones stay.
    versions = conversation.messages.filter(role=Role.ASSISTANT, reply_to=reply_to)
    versions.exclude(pk=message.pk).update(selected=False)
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
    regenerate_of: int | None = None,
    edit_of: int | None = None,
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
    `continue_of` extends a reply that did not end complete. `regenerate_of` (the
    last reply) writes a new version of it (`ReplyRegenerates` first): the new one
    is chosen, the earlier ones kept. `edit_of` (a user message) puts `text` in it,
    removes every later turn and answers it anew.
    """
    yield from _observed(
        conversation,
        speaker,
        _reply_stream(
            conversation=conversation, speaker=speaker, text=text, should_stop=should_stop,
            resend_of=resend_of, continue_of=continue_of, regenerate_of=regenerate_of,
            edit_of=edit_of,
        ),
    )  # fmt: skip


def _reply_stream(
    *,
    conversation: Conversation,
    speaker: Speaker,
    text: str,
    should_stop: Callable[[], bool],
    resend_of: int | None,
    continue_of: int | None,
    regenerate_of: int | None = None,
    edit_of: int | None = None,
) -> Iterator[ReplyEvent]:
    rate_limit_check(scope="chat", who=speaker.rate_key, rate=settings.LUMA_CHAT_RATE)
    if regenerate_of is not None or edit_of is not None:
        # Checked and changed under the turn: no other reply is being written meanwhile.
        with conversation_turn(conversation.pk, should_stop=should_stop):
            if regenerate_of is not None:
                regenerated = _reply_to_regenerate(conversation, regenerate_of)
                yield ReplyRegenerates(regenerated)
                assert regenerated.reply_to is not None
                yield from _reply(
                    conversation, speaker, regenerated.reply_to, None, should_stop, regenerated
                )
            else:
                assert edit_of is not None
                edited = message_edit(conversation=conversation, message_id=edit_of, text=text)
                yield UserMessageStored(edited)
                yield from _reply(conversation, speaker, edited, None, should_stop)
        return
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
    regenerated: Message | None = None,
) -> Iterator[ReplyEvent]:
    """Write and store the reply to every unanswered message up to the newest one
    (or a new version of `regenerated`, answering what it answered)."""
    row = runtime_settings_get()
    newest = conversation.messages.filter(role=Role.USER).order_by("-pk").first() or user_message
    reply_to = continued.reply_to if continued is not None else newest
    if regenerated is not None:
        reply_to = user_message
    leave_out = regenerated.pk if regenerated is not None else None

    def prompt(budget: int | None) -> tuple[list[ChatMessage], list[Memory]]:
        messages, memories = prompt_build(
            row=row, conversation=conversation, speaker=speaker, text=reply_to.content,
            budget=budget, leave_out=leave_out,
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
    regenerate_of: int | None = None,
    edit_of: int | None = None,
) -> ReplyStored:
    """The same as `conversation_reply_stream`, for callers that want only the end."""
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=speaker,
        text=text,
        resend_of=resend_of,
        continue_of=continue_of,
        regenerate_of=regenerate_of,
        edit_of=edit_of,
    )
    for event in events:
        if isinstance(event, ReplyStored):
            return event
    raise AssertionError("a reply stream always ends with ReplyStored")


def message_store_outside_reply(
    *,
    conversation: Conversation,
    speaker: Speaker,
    reply_to: Message,
    text: str,
    reasoning: str,
    prompt: list[ChatMessage],
    memories: list[Memory],
    usage: Usage | None,
    answering: Answering | None,
    stopped: bool = False,
    interrupted: bool = False,
) -> Message:
    """Store a reply written outside `conversation_reply_stream` as that service stores
    its own (usage, or an estimate from `prompt`; the memories used), and queue memory
    suggestions for a complete one. The OpenAI-compatible endpoint (`openai_api`) writes
    replies this way: its client keeps the history and the prompt is built from it."""
    streamed = _Streamed(
        chunks=[text], reasoning=[reasoning] if reasoning else [], usage=usage,
        answering=answering, stopped=stopped, interrupted=interrupted, prompt=prompt,
        memories=memories,
    )  # fmt: skip
    message = message_store_reply(
        conversation=conversation, speaker=speaker, reply_to=reply_to, streamed=streamed,
        text=text, reasoning=reasoning,
    )  # fmt: skip
    if message.status == ReplyStatus.COMPLETE:
        memory_suggestions_request(reply=message)
    return message
