"""Nearest-neighbour search done by PostgreSQL, with pgvector, where the database has it.

Where the `vector` extension is available, migration 0008 (`vector_column_install`)
adds a column to the embeddings' table, `embedding`, of pgvector's `vector` type: each
`MemoryEmbedding` row then carries its vector twice, as float32 bytes (the record,
which every database reads the same way) and as a `vector` that PostgreSQL indexes.
Both are written by one statement (`memory_vectors_store`), so the vector has the
row's model and stamp and goes when the row goes. The column has no dimension, so
any embedding model fits; an HNSW index needs one, so there is one per dimension,
over `embedding::vector(N)` and partial on `vector_dims(embedding) = N`. The migration
creates MiniLM's (384); another model's is made when its first vectors are written
(up to 2,000 dimensions, pgvector's HNSW limit; above it a search scans).

Elsewhere (SQLite, or a PostgreSQL without the extension) the column does not exist
and every process keeps the vectors in memory (`memories.embeddings.VectorIndex`).
Which of the two a process uses is decided once, and logged (`pgvector_in_use`).
"""

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, IntegerField, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from pgvector.django import CosineDistance, VectorField

from memories.models import MemoryVector

logger = logging.getLogger(__name__)

EMBEDDINGS_TABLE = "memories_memoryembedding"
# pgvector's HNSW index takes vectors of up to this many dimensions.
HNSW_MAX_DIMENSIONS = 2000
# The default model's dimension (all-MiniLM-L6-v2): its index is made by the migration.
DEFAULT_DIMENSIONS = 384
# pgvector's ceiling for hnsw.ef_search: an index scan returns at most this many rows.
EF_SEARCH_MAX = 1000
# ef_search's least value here (pgvector's default is 40).
_EF_SEARCH_FLOOR = 100


def _extension_state(cursor: Any) -> str:
    """Where pgvector stands: "installed" here, "available" to install, or "missing"."""
    cursor.execute("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'")
    row = cursor.fetchone()
    if row is None:
        return "missing"
    return "installed" if row[0] else "available"


def _extension_ready(db: BaseDatabaseWrapper) -> bool:
    """Whether the `vector` extension is installed here, installing it when it can.

    An extension someone already created is used as it is: creating it needs a
    superuser (or the database's owner for trusted ones), which the application's
    account often is not."""
    with db.cursor() as cursor:
        state = _extension_state(cursor)
        if state == "installed":
            return True
        if state == "missing":
            logger.info("PostgreSQL has no `vector` extension (pgvector) to install.")
            return False
        try:
            with transaction.atomic(using=db.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except DatabaseError as error:
            logger.warning(
                "The `vector` extension is available but could not be created (%s). A "
                "superuser can run CREATE EXTENSION vector; then `python manage.py "
                "enable_pgvector` moves vector search into PostgreSQL.",
                str(error).strip().splitlines()[0],
            )
            return False
    return True


def _hnsw_index_sql(dimensions: int) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS memories_embedding_hnsw_{dimensions} ON {EMBEDDINGS_TABLE} "
        f"USING hnsw ((embedding::vector({dimensions})) vector_cosine_ops) "
        f"WHERE vector_dims(embedding) = {dimensions}"
    )


def _backfill(db: BaseDatabaseWrapper) -> int:
    """Fill the `vector` column of every row from its float32 bytes."""
    filled = 0
    with db.cursor() as reader, db.cursor() as writer:
        reader.execute(
            "SELECT memory_id, vector FROM memories_memoryembedding WHERE embedding IS NULL"
        )
        while rows := reader.fetchmany(2000):
            writer.executemany(
                "UPDATE memories_memoryembedding SET embedding = %s::vector WHERE memory_id = %s",
                [
                    (_vector_text(np.frombuffer(bytes(raw), dtype="<f4")), memory_id)
                    for memory_id, raw in rows
                    if len(raw) >= 4
                ],
            )
            filled += len(rows)
    return filled


def vector_column_install(db: BaseDatabaseWrapper) -> bool:
    """Add the `vector` column, its HNSW index and its values, on PostgreSQL with pgvector.

    Safe to run again (the migration, then `enable_pgvector` after a superuser
    installed the extension). Returns whether the column is there; False, changing
    nothing, on another database or without the extension."""
    if db.vendor != "postgresql" or not _extension_ready(db):
        return False
    with db.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE memories_memoryembedding ADD COLUMN IF NOT EXISTS embedding vector"
        )
    # Filled before it is indexed: building an HNSW index is far quicker than
    # inserting the same vectors into one.
    filled = _backfill(db)
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT vector_dims(embedding) FROM memories_memoryembedding "
            "WHERE embedding IS NOT NULL"
        )
        sizes = {DEFAULT_DIMENSIONS} | {row[0] for row in cursor.fetchall()}
        for dimensions in sorted(sizes):
            if dimensions <= HNSW_MAX_DIMENSIONS:
                cursor.execute(_hnsw_index_sql(dimensions))
    if filled:
        logger.info("Copied %d embedding(s) into PostgreSQL's vector index.", filled)
    return True


def vector_column_drop(db: BaseDatabaseWrapper) -> None:
    """Undo `vector_column_install` (its indexes go with the column)."""
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {EMBEDDINGS_TABLE} DROP COLUMN IF EXISTS embedding")


_decided: dict[str, bool] = {}
_decide_lock = threading.Lock()


def pgvector_in_use() -> bool:
    """Whether PostgreSQL searches the vectors (decided on the first call, and logged).

    True on PostgreSQL where the vector column exists; otherwise each process keeps
    its vectors in memory, and the log says why (once)."""
    alias = connection.alias
    if alias in _decided:
        return _decided[alias]
    with _decide_lock:
        if alias not in _decided:
            _decided[alias] = _decide()
    return _decided[alias]


def pgvector_decision_forget() -> None:
    """Decide again on the next call (a test that adds or drops the column)."""
    _decided.clear()
    _indexed_dimensions.clear()


def _decide() -> bool:
    if connection.vendor != "postgresql":
        logger.info(
            "Vector search: in process (%s); vectors are kept in memory.", connection.vendor
        )
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND column_name = 'embedding')",
            [EMBEDDINGS_TABLE],
        )
        (exists,) = cursor.fetchone()
        state = _extension_state(cursor)
    if exists:
        logger.info("Vector search: PostgreSQL with pgvector (HNSW index, cosine distance).")
        return True
    why = {
        "missing": "this PostgreSQL has no pgvector (`vector` extension); the "
        "pgvector/pgvector image of compose.yaml has it",
        "available": "pgvector is available but not installed in this database: a "
        "superuser runs CREATE EXTENSION vector, then `python manage.py enable_pgvector`",
        "installed": "pgvector is installed but the vector column is missing: run "
        "`python manage.py enable_pgvector`",
    }[state]
    logger.warning(
        "Vector search: in process, every process keeping every vector in memory, as %s.", why
    )
    return False


_indexed_dimensions: set[int] = set()


def _hnsw_index_ensure(dimensions: int) -> None:
    """An HNSW index for this dimension, made by the first write that needs one (one
    writer at a time: two concurrent CREATE INDEX IF NOT EXISTS may collide)."""
    if dimensions in _indexed_dimensions:
        return
    if dimensions > HNSW_MAX_DIMENSIONS:
        logger.warning(
            "Vectors of %d dimensions have no HNSW index (pgvector indexes up to %d): "
            "PostgreSQL compares every vector of that model in each search.",
            dimensions,
            HNSW_MAX_DIMENSIONS,
        )
    else:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Looked up first: CREATE INDEX locks the table against writes, even
                # when the index is there, until the transaction ends.
                cursor.execute("SELECT to_regclass(%s)", [f"memories_embedding_hnsw_{dimensions}"])
                if cursor.fetchone()[0] is None:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [EMBEDDINGS_TABLE])
                    cursor.execute(_hnsw_index_sql(dimensions))
        except DatabaseError as error:
            # The vectors are still written and found (by a scan), and a later write
            # tries again: a missing index must not cost the embeddings themselves.
            logger.warning("No HNSW index for %d dimensions yet: %s", dimensions, error)
            return
    _indexed_dimensions.add(dimensions)


_FLOAT32_TEXT = "{:.9g}".format  # nine significant digits give back the same float32


def _vector_text(vector: np.ndarray) -> str:
    """pgvector's text form of a vector, exact: PostgreSQL stores the same float32s."""
    return "[" + ",".join(map(_FLOAT32_TEXT, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def memory_vectors_store(
    *, memory_ids: Sequence[int], vectors: Sequence[np.ndarray], model: str
) -> None:
    """Store (or replace) these memories' embedding rows, bytes and `vector` together
    in one statement, so PostgreSQL's index never lags or outlives the record."""
    if not memory_ids:
        return
    stamp = timezone.now()
    with transaction.atomic():
        for dimensions in {len(vector) for vector in vectors}:
            _hnsw_index_ensure(dimensions)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO memories_memoryembedding "
                "(memory_id, model, vector, embedding, updated_at) "
                "VALUES (%s, %s, %s, %s::vector, %s) ON CONFLICT (memory_id) DO UPDATE SET "
                "model = EXCLUDED.model, vector = EXCLUDED.vector, "
                "embedding = EXCLUDED.embedding, updated_at = EXCLUDED.updated_at",
                [
                    (memory_id, model, _float32_bytes(vector), _vector_text(vector), stamp)
                    for memory_id, vector in zip(memory_ids, vectors, strict=True)
                ],
            )


def _float32_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


class PgVectorIndex:
    """The nearest vectors of one embedding model, found by PostgreSQL.

    The same answers as `VectorIndex.nearest` (memory id, cosine similarity, the
    embedding's stamp), from the HNSW index, so approximate: `hnsw.ef_search` is set
    for each search (`ef_search`), and pgvector 0.6's scan may still stop short of `k`
    where the remaining rows lie far off (they would fall below the selectors'
    similarity floor anyway)."""

    loaded = True

    def __init__(self, model: str) -> None:
        self.model = model

    def neighbours(self, query: np.ndarray, *, k: int) -> QuerySet[MemoryVector]:
        """The query: (memory id, cosine distance, stamp) of the `k` nearest rows, in
        the very form of the partial HNSW index of the query's dimension."""
        dimensions = len(query)
        as_dimensioned = Cast("embedding", VectorField(dimensions=dimensions))
        return (
            MemoryVector.objects.alias(
                dimensions=Func(F("embedding"), function="vector_dims", output_field=IntegerField())
            )
            .filter(dimensions=dimensions, model=self.model)
            .annotate(distance=CosineDistance(as_dimensioned, query))
            .order_by("distance")
            .values_list("memory_id", "distance", "updated_at")[:k]
        )

    def nearest(self, query: np.ndarray, *, k: int) -> list[tuple[int, float, datetime]]:
        """The `k` most similar rows: (memory id, cosine similarity, stamp)."""
        if k <= 0 or query.ndim != 1 or not len(query):
            return []
        sql, params = self.neighbours(query, k=k).query.sql_with_params()
        setting = ["SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search(k))]]
        with connection.cursor() as cursor:
            if connection.settings_dict["OPTIONS"].get("server_side_binding"):
                with transaction.atomic():
                    cursor.execute(*setting)
                    cursor.execute(sql, params)
            else:
                # One round trip: both statements run in one implicit transaction, which
                # the setting (local) lasts for. Four round trips cost 10 ms on a busy host.
                cursor.execute(f"{setting[0]}; {sql}", [*setting[1], *params])
                cursor.nextset()
            found = cursor.fetchall()
        return [(memory_id, 1.0 - distance, stamp) for memory_id, distance, stamp in found]


def ef_search(k: int) -> int:
    """hnsw.ef_search for `k` neighbours: how many candidates an index scan gathers, and
    so the most rows it returns (pgvector's default, 40, would cut a search for 64 to
    40). Twice `k`, at least 100: candidates also go to rows of another model and to
    rows edited or deleted since the last VACUUM, which the scan then drops."""
    return min(EF_SEARCH_MAX, max(_EF_SEARCH_FLOOR, 2 * k))
