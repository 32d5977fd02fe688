"""Is a candidate fact new? The check every AI suggestion passes before it is stored.

A duplicate (of an approved, pending or rejected memory about the same subject) is
dropped; a close variant of an approved memory is a revision of it. Embeddings
alone cannot tell "streams on Fridays" from "streams on Saturdays" (cosine 0.98),
so a duplicate must also bring no new word.
"""

import logging
import re
from typing import Literal

import numpy as np

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

Relation = Literal["duplicate", "update", "new"]


def normalised_text(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


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
            return "duplicate", memory
    for similarity, memory in scored:
        if similarity < UPDATE_SIMILARITY:
            break
        if memory.status == MemoryStatus.APPROVED:
            return "update", memory
        if memory.status == MemoryStatus.PENDING:
            return "duplicate", memory
    return "new", None


def memory_relation(*, content: str, subject: Subject) -> tuple[Relation, Memory | None]:
    """How `content` relates to what is known about `subject`: a `duplicate` of the
    memory returned, an `update` of it, or `new` (with None)."""
    same = Memory.objects.filter(subject.memories())
    known = [item.memory for item in memory_rank(queryset=same, query=content, pool=20, limit=20)]
    return _relation(content, known)
