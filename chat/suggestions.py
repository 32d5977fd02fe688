"""AI-suggested memories: ask the model for facts worth keeping from an exchange.

Runs in a background task (`chat.tasks`) after a reply is stored, never on the
reply's path. The model answers in strict JSON; anything else is logged and
skipped. Whether each candidate is new is decided by `memories.dedupe`.
"""

import json
import logging
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chat.models import Message, Role
from luma.services import runtime_settings_get
from memories.dedupe import memory_relation
from memories.models import Memory, MemorySource
from memories.selectors import memories_visible_to, memory_rank
from memories.services import memory_create
from memories.subjects import Subject
from providers.base import ChatMessage
from providers.errors import ProviderError
from providers.registry import chat_options_from, provider_build

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)

SUGGESTION_PROMPT = """You pick facts worth remembering long-term from a chat exchange.
Answer with JSON only, exactly this shape:
{"memories": [{"content": "...", "importance": 1-10, "tags": ["..."], "about": "speaker"}]}
- content: one short self-contained fact in the third person, naming who it is about.
- importance: 1-3 trivia, 4-6 useful context, 7-8 important, 9-10 core identity.
- about: "speaker" for a fact about the person talking, "everyone" for a general fact.
- updates: only when the fact changes one of the known facts listed below, that fact's id.
- Only lasting facts (preferences, plans, names, relationships), not small talk, and
  nothing the known facts already say.
- If nothing is worth remembering, answer {"memories": []}."""


class SuggestedMemory(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    importance: int = Field(ge=1, le=10)
    tags: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=10
    )
    about: Literal["speaker", "everyone"] = "speaker"
    updates: int | None = None


class SuggestionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    memories: list[SuggestedMemory] = Field(max_length=20)


class MalformedSuggestions(ValueError):
    pass


def suggestions_parse(text: str) -> list[SuggestedMemory]:
    """The candidates in a model's answer; raises MalformedSuggestions otherwise."""
    cleaned = _FENCE.sub("", text.strip())
    try:
        return SuggestionBatch.model_validate(json.loads(cleaned)).memories
    except (ValueError, ValidationError) as error:
        raise MalformedSuggestions(str(error)[:500]) from None


def _question_of(reply: Message) -> Message | None:
    return (
        Message.objects.filter(
            conversation=reply.conversation, role=Role.USER, created_at__lte=reply.created_at
        )
        .exclude(pk=reply.pk)
        .order_by("-created_at", "-pk")
        .first()
    )


def _known_for_prompt(question: Message | None, text: str) -> list[Memory]:
    """Approved memories the model should know of, to revise rather than repeat them."""
    if question is None:
        return []
    visible = memories_visible_to(user=question.author_user, discord_id=question.author_discord_id)
    return [item.memory for item in memory_rank(queryset=visible, query=text, pool=10, limit=10)]


def _exchange_messages(
    question: Message | None, reply: Message, known: list[Memory]
) -> list[ChatMessage]:
    speaker = question.author_name if question is not None else "someone"
    said = question.content if question is not None else ""
    exchange = f"{speaker} said: {said}\nThe persona replied: {reply.content}"
    if known:
        facts = "\n".join(f"- id {memory.pk}: {memory.content}" for memory in known)
        exchange += f"\n\nKnown facts:\n{facts}"
    return [
        {"role": "system", "content": SUGGESTION_PROMPT},
        {"role": "user", "content": exchange},
    ]


def _subject_of(question: Message | None, candidate: SuggestedMemory) -> tuple[Subject, str]:
    """Who the candidate is about, and their name."""
    if candidate.about == "everyone" or question is None:
        return Subject(), ""
    if question.author_user_id:
        return Subject(user_id=question.author_user_id), question.author_name
    return Subject(discord_id=question.author_discord_id), question.author_name


def memory_suggestions_from_reply(*, reply_message_id: int) -> list[Memory]:
    """Ask the model for memories from the exchange ending in this reply; store them
    pending. Returns the suggestions created (none when the output is unusable)."""
    reply = Message.objects.select_related("conversation").filter(pk=reply_message_id).first()
    if reply is None:
        return []
    row = runtime_settings_get()
    question = _question_of(reply)
    known = _known_for_prompt(question, f"{question.content if question else ''} {reply.content}")
    messages = _exchange_messages(question, reply, known)
    try:
        answer = provider_build(row).complete(messages, chat_options_from(row, json_mode=True))
        candidates = suggestions_parse(answer.text)
    except ProviderError as error:
        logger.warning("No memory suggestions for message %s: %s", reply.pk, error.message)
        return []
    except MalformedSuggestions as error:
        logger.warning("Skipped malformed memory suggestions for message %s: %s", reply.pk, error)
        return []
    created: list[Memory] = []
    for candidate in candidates:
        suggestion = _suggestion_store(
            candidate, question, row.memory_suggestion_threshold, {m.pk: m for m in known}
        )
        if suggestion is not None:
            created.append(suggestion)
    return created


def _suggestion_store(
    candidate: SuggestedMemory, question: Message | None, threshold: int, known: dict[int, Memory]
) -> Memory | None:
    if candidate.importance < threshold:
        return None
    subject, name = _subject_of(question, candidate)
    relation, existing = memory_relation(content=candidate.content, subject=subject)
    if relation == "new" and candidate.updates in known:
        # The model says which fact changed; only facts it was shown qualify.
        relation, existing = "update", known[candidate.updates]
    if relation == "duplicate":
        logger.info("Suggestion %r repeats memory %s; skipped.", candidate.content, existing.pk)
        return None
    about: dict[str, Any] = {
        "subject_user": question.author_user if subject.user_id is not None else None,
        "subject_discord_id": subject.discord_id,
        "subject_name": name,
    }
    return memory_create(
        content=candidate.content,
        source=MemorySource.AI_SUGGESTED,
        importance=candidate.importance,
        tags=candidate.tags,
        updates=existing if relation == "update" else None,
        **about,
    )


def memory_suggestions_request(*, reply: Message) -> bool:
    """Queue the suggestion task for a stored reply when the setting is on."""
    if not runtime_settings_get().memory_suggestions_enabled:
        return False
    from chat.tasks import memory_suggestions_task  # the tasks module imports this one

    memory_suggestions_task.enqueue(reply_message_id=reply.pk)
    return True
