"""Reads of memories: who may see which, and hybrid ranked retrieval.

Ranking fuses two ranked lists with reciprocal-rank fusion: lexical matches
(FTS5 / PostgreSQL full-text) and semantic neighbours (embeddings, when there
are any), then weighs each memory by its importance and how recently it was
written. Lexical search alone still works while embeddings are being computed.
"""

import logging
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from luma.errors import LumaError
from luma.roles import Role, role_of
from memories.embeddings import (
    Embedder,
    embedder_get,
    vector_index_for,
    vector_index_warming,
)
from memories.models import Memory, MemoryStatus
from memories.search_index import lexical_search
from memories.subjects import ABOUT_EVERYONE, Subject
from providers.base import estimate_tokens

logger = logging.getLogger(__name__)

# Reciprocal-rank fusion constant: smaller favours the top of each list more
# (on LoCoMo, 3 gives recall@5 58.3 where 10 gave 54.5; 1 to 5 are all about as good).
RRF_K = 3
# Cosine similarity below which a semantic neighbour is not considered related.
SEMANTIC_FLOOR = 0.3
RECENCY_HALF_LIFE_DAYS = 90.0


@dataclass(frozen=True)
class ScoredMemory:
    memory: Memory
    score: float
    lexical_rank: int | None = None
    similarity: float | None = None


def memories_visible_to(
    *, user: AbstractBaseUser | None = None, discord_id: str = ""
) -> QuerySet[Memory]:
    """Approved memories a prompt for this person may use: global ones and their own."""
    about_them = ABOUT_EVERYONE
    if user is not None and user.is_authenticated:
        about_them |= Q(subject_user=user)
    if discord_id:
        about_them |= Q(subject_discord_id=discord_id)
    return Memory.objects.filter(about_them, status=MemoryStatus.APPROVED)


def memories_readable_by(*, user: AbstractBaseUser) -> QuerySet[Memory]:
    """Memories of any status a user may see through the API and pages: moderators and
    the owner see all, viewers only those about themselves."""
    if role_of(user) >= Role.MODERATOR:
        return Memory.objects.all()
    return (
        Memory.objects.filter(subject_user=user) if user.is_authenticated else Memory.objects.none()
    )


def _weight(importance: int, updated_at: datetime, now: datetime) -> float:
    age_days = max(0.0, (now - updated_at).total_seconds() / 86400)
    recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    return (0.6 + 0.08 * importance) * (0.8 + 0.2 * recency)


_query_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
# The query is embedded on this thread while the full-text search runs (both
# release the GIL), so the two costs overlap instead of adding up.
_embedding_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="luma-query-embed")


def _embedded(embedder: Embedder, query: str) -> np.ndarray:
    vector = embedder.embed([query])[0]
    _query_vectors[(embedder.name, query)] = vector
    while len(_query_vectors) > 256:
        _query_vectors.popitem(last=False)
    return vector


_loading_noted = False


def _lexical_while_loading() -> None:
    """Say once per process that searches go without vectors until they are loaded."""
    global _loading_noted
    if not _loading_noted:
        _loading_noted = True
        logger.info("The vector index is still loading: searches are lexical until it is ready.")


def _query_vector_start(query: str) -> tuple[Embedder, Future[np.ndarray]] | None:
    """Begin embedding the query (a few hundred recent queries are remembered); None
    when search is lexical. While the warm-up loads the model and the vectors, a
    search never waits for them."""
    if not query.strip():
        return None
    if vector_index_warming():
        _lexical_while_loading()
        return None
    try:
        embedder = embedder_get()
    except LumaError as error:
        logger.warning("Semantic search unavailable, lexical only: %s", error.message)
        return None
    if embedder is None:
        return None
    future: Future[np.ndarray] = Future()
    cached = _query_vectors.get((embedder.name, query))
    if cached is not None:
        future.set_result(cached)
        return embedder, future
    return embedder, _embedding_thread.submit(_embedded, embedder, query)


def _semantic_hits(
    started: tuple[Embedder, Future[np.ndarray]] | None, *, k: int
) -> list[tuple[int, float, datetime]]:
    """Nearest memories by embedding, or none when there is no embedder at hand."""
    if started is None:
        return []
    embedder, future = started
    try:
        index = vector_index_for(embedder.name)
        if index is None:
            _lexical_while_loading()
            return []
        hits = index.nearest(future.result(), k=k)
    except LumaError as error:
        logger.warning("Semantic search unavailable, lexical only: %s", error.message)
        return []
    return [hit for hit in hits if hit[1] >= SEMANTIC_FLOOR]


def _tied_ranks(scored: list[tuple[int, float]], *, precision: int) -> dict[int, int]:
    """1-based ranks by descending score; scores equal to `precision` digits share one,
    so that importance and recency, not chance, order equally good matches."""
    ranks: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for position, (memory_id, score) in enumerate(scored, start=1):
        rounded = round(score, precision)
        if rounded != previous:
            rank, previous = position, rounded
        ranks[memory_id] = rank
    return ranks


def memory_rank(
    *, queryset: QuerySet[Memory], query: str, pool: int = 50, limit: int | None = None
) -> list[ScoredMemory]:
    """The memories of `queryset` related to `query`, best first, with their scores
    (the best `limit` of them; all that were found without a limit)."""
    return memory_rank_page(queryset=queryset, query=query, pool=pool, offset=0, limit=limit)[1]


def memory_rank_page(
    *, queryset: QuerySet[Memory], query: str, pool: int, offset: int, limit: int | None
) -> tuple[int, list[ScoredMemory]]:
    """How many memories relate to `query`, and the ranked page `offset`, `limit`.

    The query is NFKC-normalised as every stored text is (`documents.chunking`), so a
    ligature or a fullwidth letter typed in a query finds the plain letters."""
    query = unicodedata.normalize("NFKC", query)
    embedding = _query_vector_start(query)
    lexical = lexical_search(queryset, query, limit=pool)
    # Twice the pool: room for neighbours this queryset excludes (others' memories).
    semantic = _semantic_hits(embedding, k=2 * pool)
    ids = {memory_id for memory_id, _ in lexical} | {memory_id for memory_id, _, _ in semantic}
    if not ids:
        return 0, []
    # Only what scoring needs; whole rows are loaded for the winners alone.
    facts = {
        pk: (importance, updated_at, embedded_at)
        for pk, importance, updated_at, embedded_at in queryset.filter(pk__in=ids).values_list(
            "pk", "importance", "updated_at", "embedding__updated_at"
        )
    }
    # A vector is trusted only while its row is unchanged (not edited, deleted or stale).
    semantic = [hit for hit in semantic if hit[0] in facts and facts[hit[0]][2] == hit[2]]
    lexical_rank = _tied_ranks([(i, s) for i, s in lexical if i in facts], precision=6)
    similarity = {memory_id: cosine for memory_id, cosine, _ in semantic[:pool]}
    semantic_rank = _tied_ranks(list(similarity.items()), precision=2)
    relevance: dict[int, float] = {}
    for ranks in (lexical_rank, semantic_rank):
        for memory_id, rank in ranks.items():
            relevance[memory_id] = relevance.get(memory_id, 0.0) + 1 / (RRF_K + rank)
    now = timezone.now()
    scores = {
        memory_id: round(value * _weight(*facts[memory_id][:2], now), 6)
        for memory_id, value in relevance.items()
    }
    ordered = sorted(scores, key=lambda memory_id: (-scores[memory_id], -memory_id))
    best = ordered[offset : None if limit is None else offset + limit]
    rows = Memory.objects.in_bulk(best)
    return len(ordered), [
        ScoredMemory(
            memory=rows[memory_id],
            score=scores[memory_id],
            lexical_rank=lexical_rank.get(memory_id),
            similarity=similarity.get(memory_id),
        )
        for memory_id in best
    ]


def memories_for_prompt(
    *,
    query: str,
    user: AbstractBaseUser | None = None,
    discord_id: str = "",
    limit: int,
    token_budget: int,
) -> list[Memory]:
    """The memories to put into the prompt for `query`, within `limit` and `token_budget`.

    The most relevant first; remaining room goes to the most important memories,
    which the persona should know whatever is being talked about.
    """
    if limit <= 0 or token_budget <= 0:
        return []
    visible = memories_visible_to(user=user, discord_id=discord_id)
    ranked = [
        item.memory
        for item in memory_rank(queryset=visible, query=query, pool=limit * 4, limit=limit * 2)
    ]
    if len(ranked) < limit:
        taken = [memory.pk for memory in ranked]
        ranked += list(
            visible.exclude(pk__in=taken).order_by("-importance", "-updated_at")[: limit * 4]
        )
    chosen: list[Memory] = []
    spent = 0
    for memory in ranked:
        cost = estimate_tokens(memory.content) + 2
        if spent + cost > token_budget:
            continue
        chosen.append(memory)
        spent += cost
        if len(chosen) == limit:
            break
    return chosen


@dataclass(frozen=True)
class MemoryFilters:
    source: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()
    subject: Subject | None = None
    importance_min: int | None = None
    importance_max: int | None = None


def memory_list(*, queryset: QuerySet[Memory], filters: MemoryFilters) -> QuerySet[Memory]:
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    for tag in filters.tags:
        # Tags are stored lower-cased; a quoted match finds the whole tag only.
        queryset = queryset.filter(tags__icontains=f'"{tag.strip().lower()}"')
    if filters.subject:
        queryset = queryset.filter(filters.subject.memories())
    if filters.importance_min is not None:
        queryset = queryset.filter(importance__gte=filters.importance_min)
    if filters.importance_max is not None:
        queryset = queryset.filter(importance__lte=filters.importance_max)
    return queryset


def memory_search(
    *, queryset: QuerySet[Memory], query: str, filters: MemoryFilters, offset: int, limit: int
) -> tuple[int, list[ScoredMemory]]:
    """One page of matching memories, ranked (by relevance, or by importance without
    a query), and how many match in all (ranked search: up to 500)."""
    filtered = memory_list(queryset=queryset, filters=filters)
    if not query.strip():
        page = filtered.order_by("-importance", "-updated_at", "-pk")[offset : offset + limit]
        return filtered.count(), [ScoredMemory(memory=m, score=0.0) for m in page]
    return memory_rank_page(
        queryset=filtered,
        query=query,
        pool=min(500, offset + limit + 50),
        offset=offset,
        limit=limit,
    )


def memory_suggestions_pending(*, queryset: QuerySet[Memory]) -> QuerySet[Memory]:
    return queryset.filter(status=MemoryStatus.PENDING).order_by("-created_at", "-pk")
