"""The lexical half of memory search: SQLite FTS5, or PostgreSQL full-text search.

SQLite keeps a separate FTS5 table (`memories_memory_fts`, rowid = memory id)
that the memory services write on every create, edit and delete. PostgreSQL
needs no writes: a GIN index on `to_tsvector('english', content)` follows the
table by itself. Either way a query is reduced to its words and OR-ed, so a
question such as "what games does Kai like?" finds "Kai loves rhythm games".
"""

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from memories.models import Memory

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TERMS = 12
# Rows SQLite may rank with bm25 for one query (see `_fts_plan`).
RANKED_ROWS = 1500
# Words that carry no meaning on their own; matching on them only adds noise.
_STOPWORD_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
tell know remember think hi hello hey ok okay yes please thanks
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def query_terms(text: str) -> list[str]:
    """The distinct meaningful words of a query, lower-cased, in order."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in terms and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return terms[:_MAX_TERMS]


def _tags_text(tags: Iterable[str]) -> str:
    return " ".join(str(tag) for tag in tags)


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def search_index_write(memories: Iterable[Memory]) -> None:
    """Index (or re-index) these memories; a no-op where the database indexes itself."""
    if not _is_sqlite():
        return
    rows = [(m.pk, m.content, _tags_text(m.tags or [])) for m in memories]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "DELETE FROM memories_memory_fts WHERE rowid = %s", [(r[0],) for r in rows]
        )
        cursor.executemany(
            "INSERT INTO memories_memory_fts(rowid, content, tags) VALUES (%s, %s, %s)", rows
        )


def search_index_remove(memory_ids: Iterable[int]) -> None:
    if not _is_sqlite():
        return
    ids = [(pk,) for pk in memory_ids]
    if ids:
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM memories_memory_fts WHERE rowid = %s", ids)


def search_index_rebuild() -> int:
    """Index every memory again from scratch; returns how many were indexed."""
    if not _is_sqlite():
        return Memory.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM memories_memory_fts")
    count = 0
    batch: list[Memory] = []
    for memory in Memory.objects.only("pk", "content", "tags").iterator(chunk_size=5000):
        batch.append(memory)
        if len(batch) == 5000:
            search_index_write(batch)
            count, batch = count + len(batch), []
    search_index_write(batch)
    return count + len(batch)


def _quoted(term: str) -> str:
    """A term as an FTS5 string, so FTS5 syntax in user text is just text."""
    return '"' + term.replace('"', '""') + '"'


def _fts_counts(matches: list[str], cap: int) -> list[int]:
    """How many rows each expression matches, counting no further than `cap` (cheap:
    no ranking), in one round trip."""
    one = (
        "(SELECT count(*) FROM (SELECT 1 FROM memories_memory_fts "
        "WHERE memories_memory_fts MATCH %s LIMIT %s))"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([one] * len(matches)),
            [value for match in matches for value in (match, cap + 1)],
        )
        return [int(count) for count in cursor.fetchone()]


def _fts_plan(terms: list[str]) -> tuple[str, bool] | None:
    """The MATCH expression to rank with, and whether ranking it by bm25 is affordable.

    bm25 costs a few microseconds per matching row, so OR-ing common words over
    100,000 memories would take 100 ms. Rare words decide relevance anyway (their
    inverse document frequency is high): rank the rarest words, as many as fit in
    `RANKED_ROWS`; when every word is common, the rows having all of them; when
    even those are too many, the newest rows with the rarest word, unranked.
    """
    counts = dict(zip(terms, _fts_counts([_quoted(t) for t in terms], RANKED_ROWS), strict=True))
    present = sorted((term for term in terms if counts[term]), key=lambda term: counts[term])
    if not present:
        return None
    chosen: list[str] = []
    total = 0
    for term in present:
        if chosen and total + counts[term] > RANKED_ROWS:
            break
        chosen.append(term)
        total += counts[term]
    if total <= RANKED_ROWS:
        return " OR ".join(_quoted(term) for term in chosen), True
    together = " AND ".join(_quoted(term) for term in present)
    if len(present) > 1 and 0 < _fts_counts([together], RANKED_ROWS)[0] <= RANKED_ROWS:
        return together, True
    return _quoted(present[0]), False


def lexical_search(
    queryset: QuerySet[Memory], query: str, *, limit: int
) -> list[tuple[int, float]]:
    """(id, score) of the memories in `queryset` matching `query`, best match first
    (a higher score is a better match; equal scores are equally good)."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    if _is_sqlite():
        plan = _fts_plan(terms)
        if plan is None:
            return []
        match, ranked = plan
        if not ranked:
            # Through a subquery: joined, SQLite walks every approved memory and
            # probes the FTS table for each (50 ms at 100,000 memories).
            rowids = RawSQL(
                "SELECT rowid FROM memories_memory_fts WHERE memories_memory_fts MATCH %s",
                (match,),
            )
            newest = queryset.filter(pk__in=rowids).order_by("-pk")
            return [(pk, 0.0) for pk in newest.values_list("pk", flat=True)[:limit]]
        matching = queryset.filter(search_entry__document__fts_match=match)
        scored = matching.annotate(
            lexical=RawSQL("bm25(memories_memory_fts, 1.0, 0.5)", (), FloatField())
        ).order_by("lexical")
        return [(pk, -score) for pk, score in scored.values_list("pk", "lexical")[:limit]]
    search = SearchQuery(" | ".join(terms), search_type="raw", config="english")
    vector = SearchVector("content", config="english")
    ranked_pg = (
        queryset.annotate(document=vector)
        .filter(document=search)
        .annotate(lexical=SearchRank(F("document"), search))
        .order_by("-lexical", "-pk")
    )
    return list(ranked_pg.values_list("pk", "lexical")[:limit])
