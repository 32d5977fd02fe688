"""Is a candidate fact new? The check every AI suggestion passes before it is stored.

A fact a person already decided on is dropped: one they rejected, or one they
approved after editing it, when the candidate repeats the wording the AI first
suggested (`Memory.suggested_content`). A duplicate (of an approved or pending
memory about the same subject) is dropped; a close variant of an approved memory
is a revision of it. Embeddings
alone cannot tell "streams on Fridays" from "streams on Saturdays" (cosine 0.98),
so a duplicate must also bring no new word, and "likes coffee" is never a
duplicate of "does not like coffee". Only current facts count: one a newer memory
superseded is history, not something to revise.

Across languages the default embedding model (English MiniLM) tells nothing, so
a fact in another language is also an update when it sets the same single-valued
attribute, such as a favourite game or a home town, as a known fact
(`memories.facts`). Any other cross-language contradiction stays a new fact
unless a multilingual embedding model is configured, or the AI marks it as an
update of a fact it was shown (`chat.suggestions`).
"""

import logging
import re
from typing import Literal

import numpy as np
from django.db.models import F, Q, QuerySet

from luma.errors import LumaError
from memories.embeddings import embedder_get, similarity_scaled
from memories.facts import fact_slots, has_cjk, is_negated, meaning_units, text_folded
from memories.models import Memory, MemoryStatus
from memories.search_index import query_terms
from memories.selectors import memories_current, memory_rank
from memories.subjects import Subject

logger = logging.getLogger(__name__)

# Cosine similarities (on MiniLM's scale: `similarity_scaled`) above which a candidate is
# the same fact, or a revision of it; the normalised-text check catches exact repeats
# without vectors.
DUPLICATE_SIMILARITY = 0.9
# MiniLM scores two wordings of one Chinese or Japanese fact lower (0.83 for a
# reordered sentence), so there a duplicate must bring no new character instead.
CJK_DUPLICATE_SIMILARITY = 0.8
UPDATE_SIMILARITY = 0.7
# Facts about one subject searched for the attribute a candidate sets.
SLOT_SCAN = 200
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)

Relation = Literal["decided", "duplicate", "update", "new"]


def normalised_text(text: str) -> str:
    """Case, compatibility forms, units (`memories.facts.text_folded`), punctuation and
    spacing folded: "Kai  likes TEA at 8PM!" and "kai likes tea at 8 pm" are one text."""
    return " ".join(_NOT_WORD.sub(" ", text_folded(text)).split())


def _similarities(content: str, known: list[Memory]) -> list[float]:
    """Cosine similarity to each known memory; word overlap when there are no embeddings."""
    embedder = embedder_get()
    if embedder is not None and known:
        try:
            vectors = embedder.embed([content, *[memory.content for memory in known]])
            cosines = np.asarray(vectors[1:]) @ np.asarray(vectors[0])
            return [similarity_scaled(float(value), embedder) for value in cosines]
        except LumaError as error:
            logger.warning("No embeddings for suggestion dedupe, words only: %s", error.message)
    words = set(query_terms(content))
    return [
        len(words & set(query_terms(m.content))) / max(1, len(words | set(query_terms(m.content))))
        for m in known
    ]


def _says_nothing_new(content: str, known: str, similarity: float) -> bool:
    """A near-identical sentence whose every meaningful word (or CJK character) the
    known text already has, and which does not deny what it says."""
    if normalised_text(content) == normalised_text(known):
        return True
    if is_negated(content) != is_negated(known):
        return False
    new_units = meaning_units(content) - meaning_units(known)
    cjk = has_cjk(content) and has_cjk(known)
    threshold = CJK_DUPLICATE_SIMILARITY if cjk else DUPLICATE_SIMILARITY
    return not new_units and similarity >= threshold


def says_the_same(first: str, second: str, similarity: float) -> bool:
    """Whether two texts are duplicates either way round (`similarity`: their cosine
    on MiniLM's scale, `memories.embeddings.similarity_scaled`)."""
    return _says_nothing_new(first, second, similarity) or _says_nothing_new(
        second, first, similarity
    )


def _relation(content: str, known: list[Memory]) -> tuple[Relation, Memory | None]:
    """A close variant with new words revises an approved memory, and is a fact of
    its own beside a pending or rejected one: dropping it would lose what it adds
    ("has a cat called Tama" beside "likes cats"); the review queue shows it next to
    the pending one (`memories.review.suggestion_groups`)."""
    scored = sorted(
        zip(_similarities(content, known), known, strict=True), key=lambda pair: -pair[0]
    )
    for similarity, memory in scored:
        if _says_nothing_new(content, memory.content, similarity):
            decided = memory.status == MemoryStatus.REJECTED
            return ("decided" if decided else "duplicate"), memory
    for similarity, memory in scored:
        if similarity < UPDATE_SIMILARITY:
            break
        if memory.status == MemoryStatus.APPROVED:
            return "update", memory
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
    same = memories_current(Memory.objects.filter(subject.memories()))
    known = [item.memory for item in memory_rank(queryset=same, query=content, pool=20, limit=20)]
    relation, memory = _relation(content, known)
    if relation == "new":
        revised = _same_slot(content, same)
        if revised is not None:
            return "update", revised
    return relation, memory


def _same_slot(content: str, same: QuerySet[Memory]) -> Memory | None:
    """The newest approved fact that sets an attribute `content` sets (in any language
    the slot words cover); `content` is not a duplicate of it, so sets it differently."""
    slots = fact_slots(content)
    if not slots:
        return None
    approved = same.filter(status=MemoryStatus.APPROVED).order_by("-updated_at", "-pk")
    for memory in approved.only("pk", "content", "status")[:SLOT_SCAN]:
        if fact_slots(memory.content) & slots:
            return memory
    return None
