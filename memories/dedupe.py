"""Is a candidate fact new? The check every AI suggestion passes before it is stored.

A fact a person already decided on is dropped: one they rejected, or one they
approved after editing it, when the candidate repeats the wording the AI first
suggested (`Memory.suggested_content`). A duplicate (of an approved or pending
memory about the same subject) is dropped; a close variant of an approved memory
is a revision of it. Embeddings
alone cannot tell "streams on Fridays" from "streams on Saturdays" (cosine 0.98),
so a duplicate must also bring no new word.
"""

import logging
import re
import unicodedata
from typing import Literal

import numpy as np
from django.db.models import F, Q, QuerySet

from luma.errors import LumaError
from memories.embeddings import embedder_get
from memories.models import Memory, MemoryStatus
from memories.search_index import query_terms
from memories.selectors import memory_rank
from memories.subjects import Subject

logger = logging.getLogger(__name__)

# Cosine similarities (MiniLM) above which a candidate is the same fact, or a
# revision of it; the normalised-text check catches exact repeats without vectors.
DUPLICATE_SIMILARITY = 0.9
UPDATE_SIMILARITY = 0.7
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)

Relation = Literal["decided", "duplicate", "update", "new"]


def normalised_text(text: str) -> str:
    """Case, compatibility forms (NFKC: ligatures, full-width letters), punctuation
    and spacing folded: "Kai  likes TEA!" and "kai likes tea" are one text."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


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


def _relation(content: str, known: list[Memory]) -> tuple[Relation, Memory | None]:
    """A close variant with new words revises an approved memory, waits behind a
    pending one, and is a different fact from a rejected one."""
    scored = sorted(
        zip(_similarities(content, known), known, strict=True), key=lambda pair: -pair[0]
    )
    for similarity, memory in scored:
        if _says_nothing_new(content, memory, similarity):
            decided = memory.status == MemoryStatus.REJECTED
            return ("decided" if decided else "duplicate"), memory
    for similarity, memory in scored:
        if similarity < UPDATE_SIMILARITY:
            break
        if memory.status == MemoryStatus.APPROVED:
            return "update", memory
        if memory.status == MemoryStatus.PENDING:
            return "duplicate", memory
    return "new", None


def _decided(subject: Subject) -> QuerySet[Memory]:
    """The memories about `subject` a person decided on in other words than the AI's:
    rejected ones, and approved ones whose suggested wording was edited."""
    edited = Q(status=MemoryStatus.APPROVED) & ~Q(suggested_content="")
    return (
        Memory.objects.filter(subject.memories())
        .filter(Q(status=MemoryStatus.REJECTED) | (edited & ~Q(suggested_content=F("content"))))
        .only("pk", "status", "content", "suggested_content")
    )


def _decided_wording(content: str, subject: Subject) -> Memory | None:
    """The decided memory whose suggested wording (or rejected text) `content` repeats."""
    wanted = normalised_text(content)
    for memory in _decided(subject).iterator():
        wordings = [memory.suggested_content]
        if memory.status == MemoryStatus.REJECTED:
            wordings.append(memory.content)
        if wanted in {normalised_text(wording) for wording in wordings if wording}:
            return memory
    return None


def memory_relation(*, content: str, subject: Subject) -> tuple[Relation, Memory | None]:
    """How `content` relates to what is known about `subject`: `decided` (a person
    rejected it, or approved it in other words), a `duplicate` of the memory
    returned, an `update` of it, or `new` (with None)."""
    decided = _decided_wording(content, subject)
    if decided is not None:
        return "decided", decided
    same = Memory.objects.filter(subject.memories())
    known = [item.memory for item in memory_rank(queryset=same, query=content, pool=20, limit=20)]
    return _relation(content, known)
