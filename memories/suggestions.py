"""AI-suggested memories: ask the model for facts worth keeping from an exchange.

Runs in a background task after a reply is stored, never on the reply's path.
The model answers in strict JSON; anything else is logged and skipped. Each
candidate is checked against what is already known: a duplicate (of an
approved, pending or rejected memory) is dropped, and a close variant of an
approved memory about the same subject is proposed as an update to it.
"""

import json
import logging
import re
from typing import Annotated, Literal

import numpy as np
from django.db.models import QuerySet
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chat.models import Message, Role
from luma.errors import LumaError
from luma.services import runtime_settings_get
from memories.embeddings import embedder_get
from memories.models import Memory, MemorySource, MemoryStatus
from memories.search_index import query_terms
from memories.services import memory_create
from providers.base import ChatMessage
from providers.errors import ProviderError
from providers.registry import chat_options_from, provider_build

logger = logging.getLogger(__name__)

# Cosine similarities (MiniLM) above which a candidate is the same fact, or a
# revision of it; the normalised-text check catches exact repeats without vectors.
DUPLICATE_SIMILARITY = 0.9
UPDATE_SIMILARITY = 0.7
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)

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


def normalised_text(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


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
    from memories.selectors import memories_visible_to, memory_rank

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


def _subject_of(question: Message | None, candidate: SuggestedMemory) -> dict:
    if candidate.about == "everyone" or question is None:
        return {"subject_user": None, "subject_discord_id": "", "subject_name": ""}
    return {
        "subject_user": question.author_user,
        "subject_discord_id": "" if question.author_user_id else question.author_discord_id,
        "subject_name": question.author_name,
    }


def _same_subject(subject: dict) -> QuerySet[Memory]:
    if subject["subject_user"] is not None:
        return Memory.objects.filter(subject_user=subject["subject_user"])
    if subject["subject_discord_id"]:
        return Memory.objects.filter(subject_discord_id=subject["subject_discord_id"])
    return Memory.objects.filter(subject_user__isnull=True, subject_discord_id="")


def _similarities(content: str, known: list[Memory]) -> list[float]:
    """Cosine similarity to each known memory; word overlap when there are no embeddings."""
    embedder = embedder_get()
    if embedder is not None and known:
        try:
            vectors = embedder.embed([content, *[memory.content for memory in known]])
            return [float(value) for value in np.asarray(vectors[1:]) @ np.asarray(vectors[0])]
        except LumaError as error:
            logger.warning("No embeddings for suggestion dedupe, words only: %s", error.message)
    words = set(query_terms(content))
    return [
        len(words & set(query_terms(m.content))) / max(1, len(words | set(query_terms(m.content))))
        for m in known
    ]


def _says_nothing_new(content: str, memory: Memory, similarity: float) -> bool:
    """A near-identical sentence whose every meaningful word the memory already has."""
    if normalised_text(content) == normalised_text(memory.content):
        return True
    new_words = set(query_terms(content)) - set(query_terms(memory.content))
    return similarity >= DUPLICATE_SIMILARITY and not new_words


def _relation(content: str, known: list[Memory]) -> tuple[str, Memory | None]:
    """ "duplicate" (of the returned memory), "update" (of it) or "new".

    Embeddings alone cannot tell "streams on Fridays" from "streams on
    Saturdays" (cosine 0.98), so a duplicate must also bring no new words;
    a close variant with new words revises an approved memory, waits behind a
    pending one, and is a different fact from a rejected one.
    """
    scored = sorted(
        zip(_similarities(content, known), known, strict=True), key=lambda pair: -pair[0]
    )
    for similarity, memory in scored:
        if _says_nothing_new(content, memory, similarity):
            return "duplicate", memory
    for similarity, memory in scored:
        if similarity < UPDATE_SIMILARITY:
            break
        if memory.status == MemoryStatus.APPROVED:
            return "update", memory
        if memory.status == MemoryStatus.PENDING:
            return "duplicate", memory
    return "new", None


def _known_about(subject: dict, content: str) -> list[Memory]:
    """The memories a candidate could repeat: about the same subject, and related."""
    from memories.selectors import memory_rank

    same = _same_subject(subject)
    return [item.memory for item in memory_rank(queryset=same, query=content, pool=20, limit=20)]


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
    subject = _subject_of(question, candidate)
    relation, existing = _relation(candidate.content, _known_about(subject, candidate.content))
    if relation == "new" and candidate.updates in known:
        # The model says which fact changed; only facts it was shown qualify.
        relation, existing = "update", known[candidate.updates]
    if relation == "duplicate":
        logger.info("Suggestion %r repeats memory %s; skipped.", candidate.content, existing.pk)
        return None
    return memory_create(
        content=candidate.content,
        source=MemorySource.AI_SUGGESTED,
        importance=candidate.importance,
        tags=candidate.tags,
        updates=existing if relation == "update" else None,
        **subject,
    )


def memory_suggestions_request(*, reply: Message) -> bool:
    """Queue the suggestion task for a stored reply when the setting is on."""
    if not runtime_settings_get().memory_suggestions_enabled:
        return False
    from memories.tasks import memory_suggestions_task  # the tasks module imports this one

    memory_suggestions_task.enqueue(reply_message_id=reply.pk)
    return True
