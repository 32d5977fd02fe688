"""Luma's memory behind OpenAI's Chat Completions API: what one request does.

The client keeps the conversation and sends all of it each time; Luma adds what it
remembers to the system prompt and answers with the configured provider:

1. The bearer token names the account (`luma.services.api_token_user`); its role must
   allow chatting. The speaker is `X-Luma-Speaker`, else the body's `user`, else Open
   WebUI's `X-OpenWebUI-User-Id`; without one it is the account itself. Each named
   speaker is an account of its own, scoped to the token's account
   (`app:<account id>:<speaker>`, a name no person can register: Django's usernames
   have no `:`), so the memories about a viewer of one app are never another app's,
   and suggestions, review and history treat them as any viewer's.
2. The client's messages become the prompt: system and `developer` messages before the
   first turn open the system prompt, later ones go into the turn they precede;
   text parts of multimodal content are kept, images and audio dropped; tool calls
   and results are left out; consecutive turns of one role are merged and a greeting
   the assistant opened with moves into the system prompt, so strict chat templates
   (one system message, then user and assistant by turns) take it.
3. The model `luma` answers as the persona (its prompt first, the client's system
   prompt after it); `luma-raw` never uses the persona; the provider's own model name
   uses it only when the client sends no system prompt. The approved memories about the
   speaker and everyone that fit the latest user message follow, as in the web chat.
4. The reply streams from the provider (retries and fallback: `providers.resilience`),
   reasoning apart (`providers.reasoning`), cut at the client's stop sequences; the
   exchange is stored in the speaker's conversation of channel `openai` (owned by the
   token's account: its usage page counts it) with its usage and the memories used,
   and memory suggestions are queued as for any chat.

Open WebUI's background tasks (titles, tags, follow-ups: a user message starting with
"### Task:") are answered plainly: no persona, no memories, nothing stored.
"""

import copy
import hashlib
import logging
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from chat.models import Channel, Conversation, Message
from chat.services import (
    Speaker,
    conversation_start,
    message_store_outside_reply,
    message_store_user,
)
from luma.models import RuntimeSettings
from luma.ratelimit import rate_limit_check
from luma.roles import Role, role_require
from luma.services import api_token_user, runtime_settings_get
from memories.models import Memory
from memories.selectors import memories_for_prompt
from openai_api.errors import InvalidApiKey, InvalidRequest, ModelNotFound
from openai_api.schemas import ChatCompletionIn, ChatMessageIn
from persona.prompt import persona_prompt
from persona.selectors import persona_get
from providers.base import ChatMessage, Reasoning, Usage, estimate_tokens, estimate_usage
from providers.errors import EmptyReply, ProviderError
from providers.reasoning import ReplyWasReasoning
from providers.registry import provider_model, provider_prompt_budget
from providers.resilience import Answering, reply_stream

logger = logging.getLogger(__name__)

MODEL_PERSONA = "luma"  # the persona, the client's system prompt after it, and memories
MODEL_RAW = "luma-raw"  # the client's system prompt and memories, never the persona
SPEAKER_HEADER = "X-Luma-Speaker"
SPEAKER_NAME_HEADER = "X-Luma-Speaker-Name"
# Sent by Open WebUI with ENABLE_FORWARD_USER_INFO_HEADERS=true (the name URL-quoted).
OPEN_WEBUI_ID_HEADER = "X-OpenWebUI-User-Id"
OPEN_WEBUI_NAME_HEADER = "X-OpenWebUI-User-Name"
TASK_PREFIX = "### Task:"  # Open WebUI's title, tag and follow-up prompts
SPEAKER_KEY_MAX = 100  # longer ids are hashed, to fit a username
SPEAKER_NAME_MAX = 150


def account_for_token(authorization: str) -> AbstractBaseUser:
    """The account of the bearer token in an `Authorization` header, allowed to chat."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidApiKey(
            "You didn't provide an API key. Send `Authorization: Bearer <token>` with a Luma "
            "API token (create one under API tokens in Luma, or with `python manage.py "
            "create_api_token USERNAME`)."
        )
    account = api_token_user(token.strip())
    if account is None:
        shown = f"{token.strip()[:9]}…" if len(token.strip()) > 12 else "…"
        raise InvalidApiKey(
            f"Incorrect API key provided: {shown}. Use a Luma API token of an active "
            "account; a revoked token, or one whose account was deactivated, no longer works."
        )
    role_require(account, Role.VIEWER, action="chat")
    return account


@dataclass(frozen=True)
class SpeakerRef:
    """Who is talking, as the client names them: an id and how to call them."""

    key: str
    name: str


def _user_field(user: object) -> tuple[str, str]:
    """(id, name) from the body's `user`: a string, a number, or an object with an id."""
    if isinstance(user, str | int) and not isinstance(user, bool):
        return str(user).strip(), ""
    if isinstance(user, dict):
        key = user.get("id") or user.get("email") or user.get("name") or ""
        return str(key).strip(), str(user.get("name") or "").strip()
    return "", ""


def speaker_named(*, body: ChatCompletionIn, headers: Mapping[str, str]) -> SpeakerRef | None:
    """The speaker the request names, or None for the token's account itself."""
    key, name = _user_field(body.user)
    key = headers.get(SPEAKER_HEADER, "").strip() or key
    key = _printable(key or headers.get(OPEN_WEBUI_ID_HEADER, ""))
    if not key:
        return None
    named = (m.name.strip() for m in reversed(body.messages) if m.role == "user" and m.name)
    name = (
        headers.get(SPEAKER_NAME_HEADER, "").strip()
        or unquote(headers.get(OPEN_WEBUI_NAME_HEADER, "")).strip()
        or name
        or next(named, "")
        or key
    )
    return SpeakerRef(key=key, name=_printable(name)[:SPEAKER_NAME_MAX])


def _printable(text: str) -> str:
    """`text` on one line, without control characters (NUL included: no database stores it)."""
    return " ".join(
        "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\t\n").split()
    )


def _speaker_username(account: AbstractBaseUser, key: str) -> str:
    if len(key) > SPEAKER_KEY_MAX:
        key = "sha256-" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"app:{account.pk}:{key}"


def speaker_resolve(*, account: AbstractBaseUser, ref: SpeakerRef | None) -> Speaker:
    """The conversation service's speaker: the account, or the app speaker's account
    (created inactive, with no password: nobody logs in as it)."""
    if ref is None:
        return Speaker(user=account, channel=Channel.OPENAI)
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=_speaker_username(account, ref.key),
        defaults={"first_name": ref.name[:150], "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        logger.info("New speaker %r of %s's app", ref.key, account.get_username())
    return Speaker(user=user, name=ref.name, channel=Channel.OPENAI)


def models_listed(row: RuntimeSettings) -> list[tuple[str, str]]:
    """(model id, owner) for every model a client may ask for."""
    return [
        (MODEL_PERSONA, "luma"),
        (MODEL_RAW, "luma"),
        (provider_model(row), row.provider),
    ]


def model_check(*, model: str, row: RuntimeSettings) -> str:
    """`model` if a client may ask for it; `ModelNotFound` (404) naming them otherwise."""
    names = [name for name, _ in models_listed(row)]
    if model in names:
        return model
    listed = ", ".join(f"`{name}`" for name in names)
    raise ModelNotFound(
        f"The model `{model}` does not exist on this Luma. Use {listed} "
        f"(`{MODEL_PERSONA}` answers as the persona).",
        param="model",
    )


@dataclass
class _Turns:
    system: str  # the client's system prompt
    opening: str  # what the assistant said before the first user turn (a greeting)
    turns: list[ChatMessage]

    @property
    def query(self) -> str:
        """The latest user message: what memories are retrieved for."""
        return next((t["content"] for t in reversed(self.turns) if t["role"] == "user"), "")


def _turns_of(messages: list[ChatMessageIn]) -> _Turns:
    system: list[str] = []
    turns: list[ChatMessage] = []
    for message in messages:
        role = message.role.strip().lower()
        text = message.text.replace("\x00", "").strip()
        if not text or role not in {"system", "developer", "user", "assistant"}:
            continue  # tool and function results, tool calls without text
        if role in {"system", "developer"}:
            if not turns:
                system.append(text)
                continue
            role = "user"  # a note within the conversation stays where it was written
        elif role == "user" and message.name:
            text = f"{message.name.strip()}: {text}"
        if turns and turns[-1]["role"] == role:
            turns[-1] = {"role": role, "content": f"{turns[-1]['content']}\n\n{text}"}
        else:
            turns.append({"role": role, "content": text})
    opening: list[str] = []
    while turns and turns[0]["role"] == "assistant":
        opening.append(turns.pop(0)["content"])
    if not any(turn["role"] == "user" for turn in turns):
        raise InvalidRequest(
            "messages: there is no user message with text to answer.", param="messages"
        )
    return _Turns("\n\n".join(system), "\n\n".join(opening), turns)


def _within_budget(system: str, turns: list[ChatMessage], budget: int) -> list[ChatMessage]:
    """The newest turns that fit in `budget` tokens with `system`, starting with a user's."""
    cost = estimate_tokens(system) + sum(estimate_tokens(t["content"]) + 4 for t in turns)
    kept = list(turns)
    while cost > budget and len(kept) > 1:
        cost -= estimate_tokens(kept.pop(0)["content"]) + 4
        while len(kept) > 1 and kept[0]["role"] != "user":
            cost -= estimate_tokens(kept.pop(0)["content"]) + 4
    return kept


def is_client_task(body: ChatCompletionIn) -> bool:
    """A client's background task (Open WebUI: titles, tags, follow-up questions)."""
    last_user = next((m for m in reversed(body.messages) if m.role == "user"), None)
    return last_user is not None and last_user.text.lstrip().startswith(TASK_PREFIX)


@dataclass(frozen=True)
class AppPrompt:
    messages: list[ChatMessage]
    memories: list[Memory]
    query: str


def prompt_for_app(
    *, row: RuntimeSettings, body: ChatCompletionIn, speaker: Speaker, task: bool = False
) -> AppPrompt:
    """The client's conversation with the persona (as the model asks) and the memories."""
    turns = _turns_of(body.messages)
    budget = provider_prompt_budget(row)
    use_persona = not task and (
        body.model == MODEL_PERSONA or (body.model != MODEL_RAW and not turns.system)
    )
    memories = (
        []
        if task
        else memories_for_prompt(
            query=turns.query,
            user=speaker.user,
            limit=row.memory_context_limit,
            token_budget=budget // 3,
        )
    )
    parts: list[str] = []
    post_history = ""
    if use_persona:
        persona = persona_prompt(persona_get(), user=speaker.display_name)
        parts += [persona.system, f"You are talking with {speaker.display_name}."]
        post_history = persona.post_history
    parts.append(turns.system)
    if turns.opening:
        parts.append(f"You opened this conversation with:\n{turns.opening}")
    if memories:
        lines = "\n".join(f"- {memory.prompt_text}" for memory in memories)
        parts.append(f"Things you remember:\n{lines}")
    system = "\n\n".join(part.strip() for part in parts if part and part.strip())
    kept = _within_budget(system, turns.turns, budget - estimate_tokens(post_history))
    if post_history and kept[-1]["role"] == "user":
        kept[-1] = {**kept[-1], "content": f"{kept[-1]['content']}\n\n{post_history}"}
    messages: list[ChatMessage] = [{"role": "system", "content": system}] if system else []
    return AppPrompt([*messages, *kept], memories, turns.query)


class StopScanner:
    """Cuts a streamed reply at the first of the client's stop sequences, which may be
    split across chunks: the last `longest - 1` characters wait for the next chunk."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops
        self.hold = max((len(stop) for stop in stops), default=1) - 1
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The text that may be sent now; after a stop sequence, none ever again."""
        if self.stopped:
            return ""
        self.pending += text
        found = [at for at in (self.pending.find(stop) for stop in self.stops) if at >= 0]
        if found:
            self.stopped = True
            out, self.pending = self.pending[: min(found)], ""
            return out
        cut = max(0, len(self.pending) - self.hold)
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out

    def flush(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out


@dataclass(frozen=True)
class CompletionEnd:
    """The last item of a completion: why it ended (OpenAI's `finish_reason`) and usage."""

    finish_reason: str
    usage: Usage


def _settings_for_request(row: RuntimeSettings, body: ChatCompletionIn) -> RuntimeSettings:
    """The settings with the client's temperature and reply length (never longer than
    the owner's Max tokens): a copy, never saved."""
    chosen = copy.copy(row)
    if body.temperature is not None:
        chosen.temperature = body.temperature
    if body.reply_token_limit is not None:
        chosen.max_tokens = min(body.reply_token_limit, row.max_tokens)
    return chosen


def _stored_text(text: str) -> str:
    """The user's message as the conversation keeps it (the prompt has it whole)."""
    limit = settings.LUMA_MAX_MESSAGE_CHARS
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _conversation_for(account: AbstractBaseUser, speaker: Speaker) -> Conversation:
    """The speaker's conversation through this API, started on their first message."""
    found = (
        Conversation.objects.filter(
            owner=account, channel=Channel.OPENAI, messages__author_user=speaker.user
        )
        .order_by("-updated_at")
        .first()
    )
    return found or conversation_start(owner=account, channel=Channel.OPENAI)


@dataclass
class _Reply:
    chunks: list[str]
    reasoning: list[str]
    usage: Usage | None = None
    answering: Answering | None = None
    stopped: bool = False  # the client went away

    @property
    def text(self) -> str:
        return "".join(self.chunks).strip()


def _never() -> bool:
    return False


def completion_stream(
    *,
    account: AbstractBaseUser,
    body: ChatCompletionIn,
    speaker_ref: SpeakerRef | None,
    should_stop: Callable[[], bool] = _never,
) -> Iterator[str | CompletionEnd]:
    """Answer one request: reply text chunks, then one `CompletionEnd`.

    Raises `LumaError`s for the client (rate limit, unknown model, no user message) and
    `ProviderError` when the model server fails; the user's message is stored first, and
    a reply that broke off after some text is stored as interrupted before the error.
    """
    rate_limit_check(scope="chat", who=f"user-{account.pk}", rate=settings.LUMA_CHAT_RATE)
    row = runtime_settings_get()
    model_check(model=body.model, row=row)
    task = is_client_task(body)
    speaker = speaker_resolve(account=account, ref=speaker_ref)
    prompt = prompt_for_app(row=row, body=body, speaker=speaker, task=task)
    conversation = asked = None
    if not task:
        conversation = _conversation_for(account, speaker)
        text = _stored_text(prompt.query)
        asked = message_store_user(conversation=conversation, speaker=speaker, text=text)
    reply = _Reply([], [])
    scanner = StopScanner(body.stop_sequences)
    try:
        yield from _relay(_settings_for_request(row, body), body, prompt, reply, scanner,
                          should_stop)  # fmt: skip
    except ProviderError:
        if conversation is not None and asked is not None and reply.text:
            _store(conversation, speaker, asked, prompt, reply, interrupted=True)
        raise
    if (rest := scanner.flush()) and not reply.stopped:
        reply.chunks.append(rest)
        yield rest
    if not reply.text and not scanner.stopped and not reply.stopped:
        raise EmptyReply(
            "The model sent an empty reply. Try again, or pick another model in Settings."
        )
    usage = reply.usage if reply.usage and not scanner.stopped else None
    usage = usage or estimate_usage(prompt.messages, reply.text)
    if conversation is not None and asked is not None and reply.text:
        _store(conversation, speaker, asked, prompt, reply)
    yield CompletionEnd("stop" if scanner.stopped else usage.finish_reason, usage)


def _relay(
    row: RuntimeSettings,
    body: ChatCompletionIn,
    prompt: AppPrompt,
    reply: _Reply,
    scanner: StopScanner,
    should_stop: Callable[[], bool],
) -> Iterator[str]:
    """The provider's reply text, cut at the stop sequences, recorded in `reply`."""
    stream = reply_stream(row, prompt.messages, json_mode=body.json_mode)
    try:
        for item in stream:
            if isinstance(item, Answering):
                reply.answering = item
            elif isinstance(item, Usage):
                reply.usage = item
            elif should_stop():
                reply.stopped = True
                return
            elif isinstance(item, ReplyWasReasoning):
                # What was sent already cannot be taken back; the stored reply is right.
                reply.reasoning[:0] = reply.chunks
                reply.chunks.clear()
            elif isinstance(item, Reasoning):
                reply.reasoning.append(item.text)
            elif text := scanner.feed(item):
                reply.chunks.append(text)
                yield text
            if scanner.stopped:
                return
    finally:
        stream.close()


def _store(
    conversation: Conversation,
    speaker: Speaker,
    asked: Message,
    prompt: AppPrompt,
    reply: _Reply,
    *,
    interrupted: bool = False,
) -> Message:
    return message_store_outside_reply(
        conversation=conversation,
        speaker=speaker,
        reply_to=asked,
        text=reply.text,
        reasoning="".join(reply.reasoning).strip(),
        prompt=prompt.messages,
        memories=prompt.memories,
        usage=reply.usage,
        answering=reply.answering,
        stopped=reply.stopped,
        interrupted=interrupted,
    )
