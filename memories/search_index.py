"""The lexical half of memory search: SQLite FTS5, or PostgreSQL full-text search.

Text is searched two ways. **Words**: scripts that put spaces between words (Latin,
Cyrillic, Greek…) are searched word by word with the English stemmer, in an FTS5
table (`memories_memory_fts`, porter) on SQLite and a GIN index on
`to_tsvector('english', …)` on PostgreSQL. A query is reduced to its words and
OR-ed, so "what games does Kai like?" finds "Kai loves rhythm games".

**Grams**: Chinese, Japanese and Thai write no spaces between words, Korean glues
particles to its words, and an emoji is no word at all, so a word tokenizer sees a
whole sentence as one word or nothing. Runs of these characters (`GRAM_RANGES`) are
searched by their characters instead, as search engines do without a dictionary: a
query run gives its overlapping pairs (one character stays one), and its whole
text, which counts extra when a memory has it all in a row. SQLite finds them in a
second FTS5 table with the trigram tokenizer (`memories_memory_trigram`), which
holds only the memories that have such characters, written one character apart:
trigram search needs three characters, and " 猫 " and "ミ ケ" have three.
PostgreSQL finds them in a GIN index on `luma_memory_grams(content)`, the array of
a memory's characters and pairs. In the word index, gram runs are set apart by
spaces, so "Zeldaの新作" has the word "zelda". Queries without such characters
take the word path alone, exactly as before.

SQLite's tables are written by the memory services on every create, edit and
delete; PostgreSQL's indexes follow the table by themselves.
"""

import math
import re
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, FloatField, Func, QuerySet, TextField
from django.db.models.expressions import RawSQL

from memories.models import Memory

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TERMS = 12
# Pairs and runs one query may search (a long CJK sentence has one pair per character).
_MAX_GRAMS = 24
# Rows a lexical index may rank for one query (see `_plan`).
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

# Characters searched by grams: scripts written without spaces between words,
# Hangul, and emoji. PostgreSQL's `luma_memory_spaced` and `luma_memory_grams` are
# built from this list by migration 0007: a change needs a migration that runs
# `postgres_index_sql()` again, and `reindex_memories` on SQLite.
GRAM_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul jamo
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x19FF),  # Tai Le, New Tai Lue, Khmer symbols
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x1B00, 0x1B7F),  # Balinese
    (0x2300, 0x23FF),  # technical symbols: ⌚ ⏰
    (0x2600, 0x27BF),  # symbols and dingbats: ☀ ❤ ✨
    (0x2B00, 0x2BFF),  # arrows and shapes: ⭐ ⬛
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # iteration mark, closing mark, ideographic zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x303B, 0x303C),  # 〻 〼
    (0x3040, 0x30FA),  # hiragana, katakana (the middle dot ・ separates words)
    (0x30FC, 0x30FF),  # ー and katakana iteration marks
    (0x3100, 0x318F),  # bopomofo, Hangul compatibility jamo
    (0x31A0, 0x31BF),  # bopomofo extended
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xA960, 0xA97F),  # Hangul jamo extended A
    (0xA980, 0xA9FF),  # Javanese, Myanmar extended B
    (0xAA60, 0xAADF),  # Myanmar extended A, Tai Viet
    (0xAC00, 0xD7FF),  # Hangul syllables, jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFFDC),  # half-width katakana and Hangul
    (0x1B000, 0x1B16F),  # kana supplement and extended
    (0x1F000, 0x1FAFF),  # emoji, pictographs, regional indicators, skin tones
    (0x20000, 0x3134F),  # CJK extensions B to G
)
_GRAM_CLASS = "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in GRAM_RANGES) + "]"
GRAM_RUN = re.compile(_GRAM_CLASS + "+")
# Emoji are typed with and without their presentation selector: "❤️" is "❤".
_NO_VARIATION = str.maketrans("", "", "\ufe0e\ufe0f")


def query_terms(text: str) -> list[str]:
    """The distinct meaningful words of a query, lower-cased, in order."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in terms and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return terms[:_MAX_TERMS]


def _gram_runs(text: str) -> list[str]:
    return GRAM_RUN.findall(text.translate(_NO_VARIATION))


def query_grams(text: str) -> tuple[list[str], list[str]]:
    """A query's grams (its characters and pairs, see the module docstring) and its
    runs of three characters or more, distinct, in order."""
    grams: list[str] = []
    runs: list[str] = []
    for run in _gram_runs(text):
        if len(run) >= 3 and run not in runs:
            runs.append(run)
        pairs = [run] if len(run) < 3 else [run[i : i + 2] for i in range(len(run) - 1)]
        grams += [pair for pair in pairs if pair not in grams]
    return grams[:_MAX_GRAMS], runs[: max(0, _MAX_GRAMS - len(grams))]


def _words_of(text: str) -> list[str]:
    """The words of a query, its gram runs aside (the whole query when it has none)."""
    return query_terms(GRAM_RUN.sub(" ", text))


def _spaced(text: str) -> str:
    """Gram runs set apart by spaces, for the word index ("Zelda の新作 ")."""
    return GRAM_RUN.sub(r" \g<0> ", text)


def _one_apart(text: str) -> str:
    """The trigram table's text: each character of a gram run between spaces."""
    return GRAM_RUN.sub(lambda run: " " + " ".join(run[0]) + " ", text.translate(_NO_VARIATION))


def _trigram_term(gram: str) -> str:
    """A gram or run as the trigram table holds it: " 猫 ", "ミ ケ", "塞 尔 达"."""
    return f" {gram} " if len(gram) == 1 else " ".join(gram)


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
    ids = [(row[0],) for row in rows]
    scripts = [row for row in rows if GRAM_RUN.search(row[1]) or GRAM_RUN.search(row[2])]
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM memories_memory_fts WHERE rowid = %s", ids)
        cursor.executemany(
            "INSERT INTO memories_memory_fts(rowid, content, tags) VALUES (%s, %s, %s)",
            [(pk, _spaced(content), _spaced(tags)) for pk, content, tags in rows],
        )
        cursor.executemany("DELETE FROM memories_memory_trigram WHERE rowid = %s", ids)
        cursor.executemany(
            "INSERT INTO memories_memory_trigram(rowid, content, tags) VALUES (%s, %s, %s)",
            [(pk, _one_apart(content), _one_apart(tags)) for pk, content, tags in scripts],
        )


def search_index_remove(memory_ids: Iterable[int]) -> None:
    if not _is_sqlite():
        return
    ids = [(pk,) for pk in memory_ids]
    if ids:
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM memories_memory_fts WHERE rowid = %s", ids)
            cursor.executemany("DELETE FROM memories_memory_trigram WHERE rowid = %s", ids)


def search_index_rebuild() -> int:
    """Index every memory again from scratch; returns how many were indexed."""
    if not _is_sqlite():
        return Memory.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM memories_memory_fts")
        cursor.execute("DELETE FROM memories_memory_trigram")
    count = 0
    batch: list[Memory] = []
    for memory in Memory.objects.only("pk", "content", "tags").iterator(chunk_size=5000):
        batch.append(memory)
        if len(batch) == 5000:
            search_index_write(batch)
            count, batch = count + len(batch), []
    search_index_write(batch)
    return count + len(batch)


# PostgreSQL's side of `_spaced` and of a memory's grams (every character and pair
# of its gram runs, emoji without their presentation selector); GRAMS is filled in.
# Text in ASCII alone (most English) skips the regular expression: English search
# ranks by recomputing each match's tsvector, and this keeps it as cheap as before
# (not STRICT, so that PostgreSQL inlines it into the query).
_POSTGRES_SPACED = (
    "CREATE OR REPLACE FUNCTION luma_memory_spaced(body text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT CASE WHEN octet_length(body) = char_length(body) THEN body "
    "ELSE regexp_replace(body, '(GRAMS)', ' \\1 ', 'g') END $$"
)
_POSTGRES_GRAMS = (
    "CREATE OR REPLACE FUNCTION luma_memory_grams(body text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT CASE WHEN octet_length(body) = char_length(body) THEN '{}'::text[] ELSE ("
    "SELECT coalesce(array_agg(DISTINCT substr(run[1], i, size)), '{}') "
    "FROM regexp_matches(translate(body, '\ufe0e\ufe0f', ''), 'GRAMS', 'g') AS run, "
    "generate_series(1, char_length(run[1])) AS i, (VALUES (1), (2)) AS sizes(size) "
    "WHERE i + size - 1 <= char_length(run[1])) END $$"
)


def postgres_index_sql() -> list[str]:
    """The SQL that makes PostgreSQL search by words and by grams (see the module
    docstring): the two functions, then the two GIN indexes."""
    return [
        _POSTGRES_SPACED.replace("GRAMS", GRAM_RUN.pattern),
        _POSTGRES_GRAMS.replace("GRAMS", GRAM_RUN.pattern),
        "CREATE INDEX IF NOT EXISTS memories_memory_words_gin ON memories_memory USING gin "
        "(to_tsvector('english'::regconfig, COALESCE(luma_memory_spaced(content), '')))",
        "CREATE INDEX IF NOT EXISTS memories_memory_grams_gin ON memories_memory "
        "USING gin (luma_memory_grams(content))",
    ]


def _quoted(term: str) -> str:
    """A term as an FTS5 string, so FTS5 syntax in user text is just text."""
    return '"' + term.replace('"', '""') + '"'


# How many rows of each FTS5 table one expression matches, up to a limit.
_FTS_COUNT = {
    "words": (
        "(SELECT count(*) FROM (SELECT 1 FROM memories_memory_fts "
        "WHERE memories_memory_fts MATCH %s LIMIT %s))"
    ),
    "grams": (
        "(SELECT count(*) FROM (SELECT 1 FROM memories_memory_trigram "
        "WHERE memories_memory_trigram MATCH %s LIMIT %s))"
    ),
}


def _fts_counts(matches: list[str], cap: int, table: str = "words") -> list[int]:
    """How many rows each expression matches, counting no further than `cap` (cheap:
    no ranking), in one round trip."""
    one = _FTS_COUNT[table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([one] * len(matches)),
            [value for match in matches for value in (match, cap + 1)],
        )
        return [int(count) for count in cursor.fetchone()]


class _Plan(NamedTuple):
    terms: list[str]
    # Rows with any of `terms`, ranked; with all, ranked; or the newest with the one term.
    rows: Literal["any", "all", "newest"]
    counts: dict[str, int]


def _plan(terms: list[str], count: Callable[[list[list[str]]], list[int]]) -> _Plan | None:
    """Which terms to search for, and whether ranking their rows is affordable.

    Ranking costs a few microseconds per matching row (bm25), so OR-ing common words
    over 100,000 memories would take 100 ms. Rare words decide relevance anyway
    (their inverse document frequency is high): rank the rarest words, as many as
    fit in `RANKED_ROWS`; when every word is common, the rows having all of them;
    when even those are too many, the newest rows with the rarest word, unranked.
    `count` says how many rows have all the terms of each list, up to `RANKED_ROWS + 1`.
    """
    counts = dict(zip(terms, count([[term] for term in terms]), strict=True))
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
        return _Plan(chosen, "any", counts)
    if len(present) > 1 and 0 < count([present])[0] <= RANKED_ROWS:
        return _Plan(present, "all", counts)
    return _Plan(present[:1], "newest", counts)


def _fts_plan(terms: list[str], table: str = "words") -> tuple[str, bool] | None:
    """The MATCH expression to rank with, and whether ranking it by bm25 is affordable."""

    def count(groups: list[list[str]]) -> list[int]:
        matches = [" AND ".join(_quoted(term) for term in group) for group in groups]
        return _fts_counts(matches, RANKED_ROWS, table)

    plan = _plan(terms, count)
    if plan is None:
        return None
    joiner = " AND " if plan.rows == "all" else " OR "
    return joiner.join(_quoted(term) for term in plan.terms), plan.rows != "newest"


def _sqlite_word_search(
    queryset: QuerySet[Memory], terms: list[str], limit: int
) -> list[tuple[int, float]]:
    plan = _fts_plan(terms)
    if plan is None:
        return []
    match, ranked = plan
    if not ranked:
        return _sqlite_newest(queryset, "memories_memory_fts", match, limit)
    matching = queryset.filter(search_entry__document__fts_match=match)
    scored = matching.annotate(
        lexical=RawSQL("bm25(memories_memory_fts, 1.0, 0.5)", (), FloatField())
    ).order_by("lexical")
    return [(pk, -score) for pk, score in scored.values_list("pk", "lexical")[:limit]]


# Rowids `_sqlite_newest` checks at first, then four times as many, then all at once.
_NEWEST_BATCH = 128


def _sqlite_newest(
    queryset: QuerySet[Memory],
    table: Literal["memories_memory_fts", "memories_memory_trigram"],
    match: str,
    limit: int,
) -> list[tuple[int, float]]:
    """The newest `limit` memories of `queryset` whose row of the FTS5 `table` matches
    `match`, unranked (score 0).

    FTS5 hands out a match's rowids newest first, without reading the rest: a batch of
    them is checked against `queryset`, and a bigger one if too few of those are in it.
    Checking every match at once (a subquery) read all of them first: 8 ms for a word
    that half of 100,000 memories have. A queryset that leaves most matches out (one
    viewer's own memories) gets that query after two batches, so it never costs much
    more than before. Joined instead of a subquery, SQLite walks every approved memory
    and probes the FTS table for each (50 ms at 100,000 memories)."""
    newest = f"SELECT rowid FROM {table} WHERE {table} MATCH %s"  # noqa: S608 (a fixed name)
    found: list[int] = []
    before: int | None = None
    for batch in (_NEWEST_BATCH, 4 * _NEWEST_BATCH):
        with connection.cursor() as cursor:
            after = "" if before is None else " AND rowid < %s"
            cursor.execute(
                f"{newest}{after} ORDER BY rowid DESC LIMIT %s",
                [match, *([] if before is None else [before]), batch],
            )
            rowids = [rowid for (rowid,) in cursor.fetchall()]
        kept = set(queryset.filter(pk__in=rowids).values_list("pk", flat=True))
        found += [rowid for rowid in rowids if rowid in kept]
        if len(found) >= limit or len(rowids) < batch:
            return [(pk, 0.0) for pk in found[:limit]]
        before = rowids[-1]
    older = RawSQL(f"{newest} AND rowid < %s", (match, before))  # noqa: S611 (a fixed name)
    rest = queryset.filter(pk__in=older)
    found += rest.order_by("-pk").values_list("pk", flat=True)[: limit - len(found)]
    return [(pk, 0.0) for pk in found]


def _sqlite_gram_search(
    queryset: QuerySet[Memory], grams: list[str], runs: list[str], limit: int
) -> list[tuple[int, float]]:
    plan = _fts_plan([_trigram_term(term) for term in [*runs, *grams]], table="grams")
    if plan is None:
        return []
    match, ranked = plan
    if not ranked:
        return _sqlite_newest(queryset, "memories_memory_trigram", match, limit)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(memories_memory_trigram, 1.0, 0.5) "
            "FROM memories_memory_trigram WHERE memories_memory_trigram MATCH %s",
            [match],
        )
        scores = {pk: -score for pk, score in cursor.fetchall()}
    visible = queryset.filter(pk__in=list(scores)).order_by().values_list("pk", flat=True)
    return _best([(pk, scores[pk]) for pk in visible], limit)


# The expression of the index `postgres_index_sql` creates, as SQL.
_POSTGRES_WORDS = "to_tsvector('english'::regconfig, COALESCE(luma_memory_spaced(content), ''))"


def _postgres_word_counts(groups: list[list[str]]) -> list[int]:
    one = (
        f"(SELECT count(*) FROM (SELECT 1 FROM memories_memory WHERE {_POSTGRES_WORDS} "  # noqa: S608
        "@@ to_tsquery('english', %s) LIMIT %s) AS found)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([one] * len(groups)),
            [value for group in groups for value in (" & ".join(group), RANKED_ROWS + 1)],
        )
        return [int(count) for count in cursor.fetchone()]


def _postgres_word_search(
    queryset: QuerySet[Memory], terms: list[str], limit: int
) -> list[tuple[int, float]]:
    """Ranked by `ts_rank` over at most `RANKED_ROWS` rows, as SQLite's bm25 (`_plan`):
    ranking every row a common word matches recomputed its tsvector for each (0.4 s
    at 100,000 memories)."""
    plan = _plan(terms, _postgres_word_counts)
    if plan is None:
        return []
    # The expression must match the index `postgres_index_sql` creates.
    text = Func(F("content"), function="luma_memory_spaced", output_field=TextField())
    joiner = " & " if plan.rows == "all" else " | "
    search = SearchQuery(joiner.join(plan.terms), search_type="raw", config="english")
    matching = queryset.annotate(document=SearchVector(text, config="english")).filter(
        document=search
    )
    if plan.rows == "newest":
        newest = matching.order_by("-pk").values_list("pk", flat=True)[:limit]
        return [(pk, 0.0) for pk in newest]
    ranked = matching.annotate(lexical=SearchRank(F("document"), search)).order_by(
        "-lexical", "-pk"
    )
    return list(ranked.values_list("pk", "lexical")[:limit])


def _postgres_gram_counts(groups: list[list[str]]) -> list[int]:
    one = (
        "(SELECT count(*) FROM (SELECT 1 FROM memories_memory "
        "WHERE luma_memory_grams(content) @> %s::text[] LIMIT %s) AS found)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([one] * len(groups)),
            [value for group in groups for value in (group, RANKED_ROWS + 1)],
        )
        return [int(count) for count in cursor.fetchone()]


def _postgres_gram_search(
    queryset: QuerySet[Memory], grams: list[str], runs: list[str], limit: int
) -> list[tuple[int, float]]:
    """Memories having the query's grams, scored by the weight of those they have
    (rarer grams weigh more; a whole run in a row as much as a gram only one memory
    has), from 0 for none to 1 for all."""
    plan = _plan(grams, _postgres_gram_counts)
    if plan is None:
        return []
    # The expression must match the index `postgres_index_sql` creates.
    found = queryset.alias(
        grams=Func(F("content"), function="luma_memory_grams", output_field=ArrayField(TextField()))
    )
    if plan.rows == "newest":
        newest = found.filter(grams__contains=plan.terms).order_by("-pk")
        return [(pk, 0.0) for pk in newest.values_list("pk", flat=True)[:limit]]
    lookup = "grams__overlap" if plan.rows == "any" else "grams__contains"
    weights = {
        gram: math.log(1 + (RANKED_ROWS + 1) / count)
        for gram, count in plan.counts.items()
        if count
    }
    weights |= {run: math.log(2 + RANKED_ROWS) for run in runs}
    total = sum(weights.values())
    rows = found.filter(**{lookup: plan.terms}).order_by().values_list("pk", "content")
    return _best(
        [
            (pk, sum(w for term, w in weights.items() if term in text) / total)
            for pk, text in ((pk, content.translate(_NO_VARIATION)) for pk, content in rows)
        ],
        limit,
    )


def _best(hits: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """Best score first; among equals, the newest memory."""
    return sorted(hits, key=lambda hit: (-hit[1], -hit[0]))[:limit]


def _summed(
    first: list[tuple[int, float]], second: list[tuple[int, float]], limit: int
) -> list[tuple[int, float]]:
    """One list from two searches' hits: a memory both found scores both."""
    scores = dict(first)
    for pk, score in second:
        scores[pk] = scores.get(pk, 0.0) + score
    return _best(list(scores.items()), limit)


def lexical_search(
    queryset: QuerySet[Memory], query: str, *, limit: int
) -> list[tuple[int, float]]:
    """(id, score) of the memories in `queryset` matching `query`, best match first
    (a higher score is a better match; equal scores are equally good)."""
    if limit <= 0:
        return []
    words = _words_of(query)
    grams, runs = query_grams(query)
    by_words: list[tuple[int, float]] = []
    if words:
        search_words = _sqlite_word_search if _is_sqlite() else _postgres_word_search
        by_words = search_words(queryset, words, limit)
    if not grams:
        return by_words
    search_grams = _sqlite_gram_search if _is_sqlite() else _postgres_gram_search
    by_grams = search_grams(queryset, grams, runs, limit)
    return _summed(by_words, by_grams, limit) if words else by_grams
