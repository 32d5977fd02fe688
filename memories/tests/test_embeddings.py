import logging

import numpy as np
import pytest

from luma.services import runtime_settings_update
from memories.embeddings import (
    EmbeddingUnavailable,
    _onnx_embedder,
    embedder_get,
    vector_index_for,
)
from memories.models import Memory, MemoryEmbedding
from memories.selectors import memory_rank
from memories.services import memories_create_bulk, memories_embed, memory_create, memory_update


@pytest.fixture
def fresh_embedder():
    _onnx_embedder.cache_clear()
    yield
    _onnx_embedder.cache_clear()


def test_minilm_vectors_are_unit_length_and_closer_for_similar_sentences():
    vectors = embedder_get().embed(
        ["Kai adopted a kitten.", "Kai has a new cat.", "The stream starts at 8pm."]
    )

    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.5 > vectors[0] @ vectors[2]


def test_a_burst_of_first_calls_loads_the_model_once(fresh_embedder, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from memories import embeddings

    loads = []
    real_init = embeddings.OnnxSentenceEmbedder.__init__

    def counted_init(self, *args, **kwargs):
        loads.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(embeddings.OnnxSentenceEmbedder, "__init__", counted_init)
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: embedder_get(), range(8)))

    assert len(loads) == 1
    assert all(embedder is loaded[0] for embedder in loaded)


def test_a_model_file_with_the_wrong_checksum_is_not_loaded(settings, fresh_embedder):
    settings.LUMA_EMBEDDING_MODEL_SHA256 = "0" * 64

    with pytest.raises(EmbeddingUnavailable, match="sha256"):
        embedder_get()


@pytest.mark.django_db
def test_retrieval_stays_lexical_when_the_model_cannot_load(settings, fresh_embedder, caplog):
    settings.LUMA_EMBEDDING_MODEL_SHA256 = "0" * 64
    caplog.set_level(logging.WARNING, logger="memories.selectors")
    wanted = memory_create(content="Mina bakes sourdough bread.")

    ranked = memory_rank(queryset=Memory.objects, query="sourdough")

    assert [item.memory for item in ranked] == [wanted]
    assert not MemoryEmbedding.objects.exists()
    assert "lexical only" in caplog.text


@pytest.mark.django_db
def test_embeddings_are_computed_after_create_and_again_after_an_edit():
    memory = memory_create(content="Kai plays the guitar.")
    first = MemoryEmbedding.objects.get(memory=memory)

    memory_update(memory=memory, importance=9)
    assert MemoryEmbedding.objects.get(memory=memory).vector == first.vector
    memory_update(memory=memory, content="Kai plays the drums.")
    assert MemoryEmbedding.objects.get(memory=memory).vector != first.vector


@pytest.mark.django_db
def test_bulk_created_memories_get_embeddings_in_the_background():
    memories_create_bulk(memories=[Memory(content=f"Fact {i}.") for i in range(70)])

    assert MemoryEmbedding.objects.count() == 70
    assert memories_embed() == 0  # nothing is left to do


@pytest.mark.django_db
def test_ollama_embeddings_are_used_when_chosen(settings, use_ollama, ollama_server):
    settings.LUMA_EMBEDDING_SOURCE = "ollama"
    runtime_settings_update(ollama_embedding_model="fake-small")
    memory = memory_create(content="Kai plays the guitar.")
    memory_create(content="Mina bakes bread.")

    stored = MemoryEmbedding.objects.get(memory=memory)
    ranked = memory_rank(queryset=Memory.objects, query="Kai plays the guitar.")

    assert stored.model == "ollama:fake-small" and len(stored.vector) == 8 * 4
    assert ranked[0].memory == memory and ranked[0].similarity == pytest.approx(1.0)
    assert any(r["path"] == "/api/embed" for r in ollama_server.requests)


@pytest.mark.django_db
def test_an_unreachable_ollama_leaves_search_lexical(settings, use_ollama, ollama_server):
    settings.LUMA_EMBEDDING_SOURCE = "ollama"
    runtime_settings_update(ollama_embedding_model="fake-small")
    wanted = memory_create(content="Mina bakes sourdough bread.")
    ollama_server.stop()

    ranked = memory_rank(queryset=Memory.objects, query="sourdough bread")

    assert [(item.memory, item.similarity) for item in ranked] == [(wanted, None)]


@pytest.mark.django_db
def test_the_vector_index_follows_new_and_changed_vectors(vectors_in_process):
    name = embedder_get().name
    memory = memory_create(content="Kai plays the guitar.")
    index = vector_index_for(name)
    assert index.row_of.get(memory.pk) is not None

    memory_update(memory=memory, content="Kai collects stamps.")
    index = vector_index_for(name)
    query = embedder_get().embed(["stamp collecting"])[0]
    (hit,) = [hit for hit in index.nearest(query, k=5) if hit[0] == memory.pk]
    assert hit[1] > 0.5
    assert hit[2] == MemoryEmbedding.objects.get(memory=memory).updated_at


def test_the_projected_scan_on_two_threads_finds_the_exact_nearest(monkeypatch):
    """From REDUCE_FROM rows on, the index scans a PCA projection, each half of it on
    its own thread, then rescores the candidates exactly: on vectors the projection
    keeps whole, that is the exact answer, ids and similarities."""
    from datetime import UTC, datetime

    from memories import embeddings

    monkeypatch.setattr(embeddings, "REDUCE_FROM", 300)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((1001, 100)) @ rng.standard_normal((100, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    index = embeddings.VectorIndex("test-model")
    stamp = datetime(2026, 11, 30, tzinfo=UTC)
    index._add(np.arange(1, 1002), vectors, [stamp] * 1001)
    assert index.basis is not None

    for query in vectors[[0, 500, 1000]] + 0.1 * rng.standard_normal((3, 384)).astype(np.float32):
        exact = np.argsort(-(vectors @ query))[:20]
        hits = index.nearest(query, k=20)
        assert [memory_id for memory_id, _, _ in hits] == (exact + 1).tolist()
        assert np.allclose([similarity for _, similarity, _ in hits], (vectors @ query)[exact])


@pytest.mark.parametrize(("rows", "pool"), [(1001, 10), (7, 5), (2, 1)])
def test_the_coarse_candidates_hold_the_best_of_every_row(rows, pool):
    from memories.embeddings import _coarse_candidates

    rng = np.random.default_rng(rows)
    reduced = rng.standard_normal((rows, 8)).astype(np.float32)
    projected = rng.standard_normal(8).astype(np.float32)

    candidates = _coarse_candidates(reduced, projected, pool)
    best = np.argsort(-(reduced @ projected))[:pool]
    assert set(best) <= set(candidates.tolist())
    assert len(set(candidates.tolist())) == len(candidates) <= 2 * pool
