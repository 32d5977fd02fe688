"""Reads of memories: who may see which, and hybrid ranked retrieval.

Ranking fuses two ranked lists with reciprocal-rank fusion: lexical matches
(FTS5 / PostgreSQL full-text) and semantic neighbours (embeddings, when there
are any). Memories written together (a document's chunks, an import, a
conversation's lines) are read as each other's context: a memory gains a share
of its neighbours' relevance. A query that names a period ("in May", "last
week") weighs up the memories written then; the query is embedded without the
names of the people memories are about. Each memory is then weighed by its
importance and how recently it was written. Lexical search alone still works
while embeddings are being computed.
"""

import logging
import threading
import time
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Max, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from luma.errors import LumaError
from luma.roles import Role, role_of
from memories.embeddings import (
    Embedder,
    VectorIndex,
    embedder_get,
    similarity_scaled,
    vector_index_for,
    vector_index_warming,
)
from memories.models import Memory, MemoryStatus
from memories.pg_vectors import PgVectorIndex
from memories.query_dates import DateSpan, query_dates
from memories.query_names import without_names
from memories.search_index import GRAM_RUN, lexical_search
from memories.subjects import ABOUT_EVERYONE, Subject
from memories.timeframe import query_asks_about_the_past
from providers.base import estimate_tokens

logger = logging.getLogger(__name__)

# Reciprocal-rank fusion constant: smaller favours the top of each list more
# (on LoCoMo, 3 gives recall@5 58.3 where 10 gave 54.5; 1 to 5 are all about as good).
RRF_K = 3
# Cosine similarity (MiniLM's scale: `similarity_scaled`) below which a semantic
# neighbour is not considered related.
SEMANTIC_FLOOR = 0.3
RECENCY_HALF_LIFE_DAYS = 90.0
# Share of a neighbour's relevance a memory gains, by how many ids apart they are,
# when both were written together: same subject and source, within CONTEXT_WINDOW
# (one bulk write, one document, one conversation's turns). A line is often
# understood only with the one before it ("Yes! Valorant, every night." answers
# "Which games do you play?"). On LoCoMo, with DATED_WEIGHT, recall@10 went from 69 to 77.
CONTEXT_SHARES = {1: 0.35, 2: 0.2}
CONTEXT_WINDOW = timedelta(seconds=1)
# Only the best matches lend context: their neighbours are read along with the
# matches (a few dozen rows, not four per match), and weaker ones lend too little
# to matter (on LoCoMo the best 10 did as well as all).
CONTEXT_LENDERS = 10
# Weight of a memory written in the period the query names (`memories.query_dates`).
DATED_WEIGHT = 2.0


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


def memories_current(queryset: QuerySet[Memory]) -> QuerySet[Memory]:
    """Facts still true: none that a newer memory superseded (`valid_until` set)."""
    return queryset.filter(valid_until__isnull=True)


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
    vector = embedder.embed_queries([query])[0]
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


# Every name memories are about, read again in full this often; new memories' names
# are looked for at most this often (a query per search costs more than the rest).
NAMES_RELOAD_SECONDS = 600.0
NAMES_CHECK_SECONDS = 1.0
_names_lock = threading.Lock()
_names: set[str] = set()
_names_frozen: frozenset[str] = frozenset()
_names_read_until = 0  # the newest memory id whose name was read
_names_read_at = -NAMES_RELOAD_SECONDS
_names_checked_at = -NAMES_CHECK_SECONDS


def subject_names() -> frozenset[str]:
    """The names memories are about (`Memory.subject_name`), kept per process: the
    names of memories newer than the last read come by id (an index range) within
    `NAMES_CHECK_SECONDS`, all of them again every `NAMES_RELOAD_SECONDS` (for edited
    and deleted memories)."""
    global _names_read_until, _names_read_at, _names_frozen, _names_checked_at
    with _names_lock:
        if time.monotonic() - _names_checked_at < NAMES_CHECK_SECONDS:
            return _names_frozen
        _names_checked_at = time.monotonic()
        newest = Memory.objects.aggregate(newest=Max("pk"))["newest"] or 0
        whole = newest < _names_read_until or (
            time.monotonic() - _names_read_at > NAMES_RELOAD_SECONDS
        )
        rows = Memory.objects.exclude(subject_name="").filter(pk__lte=newest).order_by()
        if whole:
            _names.clear()
            _names_read_at = time.monotonic()
        elif newest > _names_read_until:
            rows = rows.filter(pk__gt=_names_read_until)
        else:
            rows = rows.none()
        read = set(rows.values_list("subject_name", flat=True).distinct())
        if whole or not read <= _names:
            _names.update(read)
            _names_frozen = frozenset(_names)
        _names_read_until = newest
        return _names_frozen


def subject_names_forget() -> None:
    """Read every name afresh at the next search (tests, after a rollback)."""
    global _names_read_until, _names_read_at, _names_checked_at, _names_frozen
    with _names_lock:
        _names.clear()
        _names_frozen = frozenset()
        _names_read_until, _names_read_at = 0, -NAMES_RELOAD_SECONDS
        _names_checked_at = -NAMES_CHECK_SECONDS


def _query_vector_start(query: str) -> tuple[Embedder, Future[np.ndarray]] | None:
    """Begin embedding the query without the names of the people memories are about
    (`memories.query_names`; a few hundred recent queries are remembered); None when
    search is lexical: while the warm-up loads the model and the vectors (a search
    never waits for them), and for a query in a script the model does not read
    (`Embedder.multilingual`)."""
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
    if embedder is None or (not embedder.multilingual and GRAM_RUN.search(query)):
        return None
    query = without_names(query, subject_names())
    if not query.strip():
        return None
    future: Future[np.ndarray] = Future()
    cached = _query_vectors.get((embedder.name, query))
    if cached is not None:
        future.set_result(cached)
        return embedder, future
    return embedder, _embedding_thread.submit(_embedded, embedder, query)


def _semantic_index(
    started: tuple[Embedder, Future[np.ndarray]] | None,
) -> VectorIndex | PgVectorIndex | None:
    """The index to search for the embedder `_query_vector_start` began with, brought
    up to date while the query is still being embedded; None when there is none."""
    if started is None:
        return None
    try:
        index = vector_index_for(started[0].name)
    except LumaError as error:
        logger.warning("Semantic search unavailable, lexical only: %s", error.message)
        return None
    if index is None:
        _lexical_while_loading()
    return index


def _semantic_hits(
    started: tuple[Embedder, Future[np.ndarray]] | None,
    index: VectorIndex | PgVectorIndex | None,
    *,
    k: int,
) -> list[tuple[int, float, datetime]]:
    """Nearest memories by embedding, or none when there is no embedder or index."""
    if started is None or index is None:
        return []
    embedder, future = started
    try:
        hits = index.nearest(future.result(), k=k)
    except LumaError as error:
        logger.warning("Semantic search unavailable, lexical only: %s", error.message)
        return []
    return [hit for hit in hits if similarity_scaled(hit[1], embedder) >= SEMANTIC_FLOOR]


class _Facts(NamedTuple):
    """What ranking needs of a memory (whole rows are loaded for the winners alone)."""

    importance: int
    updated_at: datetime
    embedded_at: datetime | None
    created_at: datetime
    source: str
    subject_user_id: int | None
    subject_discord_id: str


class _FactsReader:
    """Reads the `_Facts` of memories of one queryset by id.

    The queryset is compiled to SQL once per search, and each read runs it with the
    ids as plain parameters, through the cursor: cloning and compiling a queryset,
    and the ORM's per-value datetime conversion (a regular expression per value),
    cost more than the query itself on a few hundred rows (1.4 ms against 0.35 ms at
    100,000 memories, `bench/bench_retrieval.py`)."""

    def __init__(self, queryset: QuerySet[Memory]) -> None:
        self.connection = connections[queryset.db]

        def stamp(field: str) -> F | Cast:
            # SQLite's stored text, which `_aware` parses far faster than the driver's
            # converter (a regular expression per value) that the column type calls.
            return Cast(field, TextField()) if self.connection.vendor == "sqlite" else F(field)

        rows = queryset.order_by().values_list(
            "pk",
            "importance",
            stamp("updated_at"),
            stamp("embedding__updated_at"),
            stamp("created_at"),
            "source",
            "subject_user_id",
            "subject_discord_id",
        )
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:  # a queryset that can hold nothing (`.none()`)
            self.sql = None
            return
        quote = self.connection.ops.quote_name
        # The ORM's own SQL, and quoted names: the ids go in as parameters.
        self.sql = f"SELECT * FROM ({sql}) {quote('visible')} WHERE {quote('pk')} IN "  # noqa: S608
        self.params = list(params)

    def read(
        self, ids: set[int], lenders: set[int], *, known: dict[int, _Facts]
    ) -> dict[int, _Facts]:
        """The facts of the memories `ids`, and of those up to two ids away from the
        `lenders` (the context they may lend, `_with_context`), that are in the
        queryset and not already `known`, in one query."""
        offsets = [offset for distance in CONTEXT_SHARES for offset in (distance, -distance)]
        nearby = {pk + offset for pk in lenders for offset in offsets}
        wanted = sorted((ids | nearby) - known.keys())
        if not wanted or self.sql is None:
            return {}
        placeholders = ", ".join(["%s"] * len(wanted))
        with self.connection.cursor() as cursor:
            cursor.execute(f"{self.sql}({placeholders})", [*self.params, *wanted])
            return {
                pk: _Facts(importance, _aware(updated), _aware(embedded), _aware(created), *rest)
                for pk, importance, updated, embedded, created, *rest in cursor.fetchall()
            }


def _aware(value: datetime | str | None) -> datetime | None:
    """A stored timestamp as the ORM would give it. `_FactsReader` reads SQLite's as its
    UTC text (naive local time without USE_TZ), parsed with the offset appended: a
    seventh of the time of parsing, then `replace(tzinfo=...)` (0.17 against 1.25 µs,
    and a search reads a few hundred). PostgreSQL's driver returns datetimes."""
    if value.__class__ is str:
        return datetime.fromisoformat(value + "+00:00" if settings.USE_TZ else value)
    return value


def _written_together(one: _Facts, other: _Facts) -> bool:
    return (
        one.source == other.source
        and one.subject_user_id == other.subject_user_id
        and one.subject_discord_id == other.subject_discord_id
        and abs(one.created_at - other.created_at) <= CONTEXT_WINDOW
    )


def _with_context(
    relevance: dict[int, float], facts: dict[int, _Facts], *, adding: bool
) -> dict[int, float]:
    """Each memory's relevance plus shares (`CONTEXT_SHARES`) of what the memories
    written together with it, one and two ids away, are more relevant than it. Context
    flows from a better match to a weaker one only: a run of equally good matches (a
    spreadsheet's rows sharing the query's common words) gains nothing from itself
    and cannot bury the one memory that has the rare word. With `adding`, a memory
    the searches did not find itself is found this way too, as the context of one
    they did. Only the `CONTEXT_LENDERS` best matches lend."""
    total = dict(relevance)
    best = sorted(relevance.items(), key=lambda item: -item[1])[:CONTEXT_LENDERS]
    for memory_id, value in best:
        own = facts[memory_id]
        for distance, share in CONTEXT_SHARES.items():
            for neighbour in (memory_id - distance, memory_id + distance):
                other = facts.get(neighbour)
                if other is None or not (adding or neighbour in relevance):
                    continue
                lead = value - relevance.get(neighbour, 0.0)
                if lead > 0 and _written_together(own, other):
                    total[neighbour] = total.get(neighbour, 0.0) + share * lead
    return total


def _dated_weight(created_at: datetime, dates: DateSpan | None) -> float:
    if dates is None or timezone.localtime(created_at).date() not in dates:
        return 1.0
    return DATED_WEIGHT


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
    *,
    queryset: QuerySet[Memory],
    query: str,
    pool: int = 50,
    limit: int | None = None,
    with_context: bool = False,
) -> list[ScoredMemory]:
    """The memories of `queryset` related to `query`, best first, with their scores
    (the best `limit` of them; all that were found without a limit). With
    `with_context`, as for a prompt, memories written together with a match rank too
    (see `memory_rank_page`)."""
    return memory_rank_page(
        queryset=queryset,
        query=query,
        pool=pool,
        offset=0,
        limit=limit,
        with_context=with_context,
    )[1]


def memory_rank_page(
    *,
    queryset: QuerySet[Memory],
    query: str,
    pool: int,
    offset: int,
    limit: int | None,
    with_context: bool = False,
) -> tuple[int, list[ScoredMemory]]:
    """How many memories relate to `query`, and the ranked page `offset`, `limit`.

    Matches (by words or by meaning) gain from the matches written together with them
    (`CONTEXT_SHARES`). With `with_context`, the memories written together with a
    match rank as well, though they match nothing themselves: a prompt wants the
    line that answers next to the line that asked, while a search lists matches.

    The query is NFKC-normalised as every stored text is (`documents.chunking`), so a
    ligature or a fullwidth letter typed in a query finds the plain letters."""
    query = unicodedata.normalize("NFKC", query)
    # While the query is embedded on another thread, this one does everything that
    # does not need its vector: the full-text search, the facts of its matches, and
    # bringing the vector index up to date.
    embedding = _query_vector_start(query)
    lexical = lexical_search(queryset, query, limit=pool)
    reader = _FactsReader(queryset)
    facts = reader.read(
        {memory_id for memory_id, _ in lexical},
        {memory_id for memory_id, _ in lexical[:CONTEXT_LENDERS]},
        known={},
    )
    # Twice the pool: room for neighbours this queryset excludes (others' memories).
    semantic = _semantic_hits(embedding, _semantic_index(embedding), k=2 * pool)
    facts |= reader.read(
        {memory_id for memory_id, _, _ in semantic},
        {memory_id for memory_id, _, _ in semantic[:CONTEXT_LENDERS]},
        known=facts,
    )
    if not lexical and not semantic:
        return 0, []
    # A vector is trusted only while its row is unchanged (not edited, deleted or stale).
    semantic = [hit for hit in semantic if hit[0] in facts and facts[hit[0]].embedded_at == hit[2]]
    lexical_rank = _tied_ranks([(i, s) for i, s in lexical if i in facts], precision=6)
    similarity = {memory_id: cosine for memory_id, cosine, _ in semantic[:pool]}
    semantic_rank = _tied_ranks(list(similarity.items()), precision=2)
    relevance: dict[int, float] = {}
    for ranks in (lexical_rank, semantic_rank):
        for memory_id, rank in ranks.items():
            relevance[memory_id] = relevance.get(memory_id, 0.0) + 1 / (RRF_K + rank)
    now = timezone.now()
    dates = query_dates(query, today=timezone.localdate(now))
    scores = {
        memory_id: round(
            value
            * _weight(facts[memory_id].importance, facts[memory_id].updated_at, now)
            * _dated_weight(facts[memory_id].created_at, dates),
            6,
        )
        for memory_id, value in _with_context(relevance, facts, adding=with_context).items()
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
    which the persona should know whatever is being talked about. Only current facts,
    unless `query` asks about the past: then superseded ones may answer it too.
    """
    if limit <= 0 or token_budget <= 0:
        return []
    current = memories_current(memories_visible_to(user=user, discord_id=discord_id))
    visible = (
        memories_visible_to(user=user, discord_id=discord_id)
        if query_asks_about_the_past(query)
        else current
    )
    ranked = [
        item.memory
        for item in memory_rank(
            queryset=visible, query=query, pool=limit * 4, limit=limit * 2, with_context=True
        )
    ]
    if len(ranked) < limit:
        taken = [memory.pk for memory in ranked]
        ranked += list(
            current.exclude(pk__in=taken).order_by("-importance", "-updated_at")[: limit * 4]
        )
    chosen: list[Memory] = []
    spent = 0
    for memory in ranked:
        cost = estimate_tokens(memory.prompt_text) + 2
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
    current: bool | None = None  # True: current facts only; False: superseded ones only


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
    if filters.current is not None:
        queryset = queryset.filter(valid_until__isnull=filters.current)
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
