"""PostgreSQL with pgvector searches the vectors itself; elsewhere each process does.

Most of these run on the suite's pgvector pass (`scripts/test.sh` starts a private
PostgreSQL 16 with pgvector 0.6 through `pgserver`) and are skipped on the others; the
start-up message is checked on every database.
"""

import logging
import random

import numpy as np
import psycopg
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.backends.postgresql.base import DatabaseWrapper

from luma.roles import MODERATORS_GROUP
from memories import embeddings, pg_vectors
from memories.embeddings import VectorIndex, embedder_get, vector_index_for, vector_index_warm_up
from memories.models import Memory, MemoryEmbedding, MemoryVector
from memories.pg_vectors import PgVectorIndex, pgvector_in_use, vector_column_install
from memories.selectors import MemoryFilters, memories_readable_by, memory_search
from memories.services import (
    memories_create_bulk,
    memories_delete,
    memory_create,
    memory_delete,
    memory_embeddings_store,
    memory_update,
)

pytestmark = pytest.mark.django_db

NAMES = ["Kai", "Mina", "Rio", "Sol", "Ada", "Noor", "Taro", "Lena"]
LIKES = [
    "plays the guitar", "bakes sourdough bread", "speedruns Hollow Knight", "grows tomatoes",
    "paints watercolour cats", "collects vinyl records", "climbs at the bouldering gym",
    "streams Minecraft on Fridays", "learns Japanese", "knits scarves in winter",
]  # fmt: skip
QUERIES = [
    "who likes music?", "Does anyone cook?", "video games", "gardening tips", "cats",
    "a hobby for cold weather", "languages", "rock climbing", "art", "weekend streams",
]  # fmt: skip


@pytest.fixture
def pgvector():
    """Skip unless PostgreSQL searches the vectors; afterwards forget what this process
    decided and indexed (a test's schema changes are rolled back with it)."""
    if not pgvector_in_use():
        pytest.skip("needs PostgreSQL with pgvector (the pgvector pass of scripts/test.sh)")
    yield
    pg_vectors.pgvector_decision_forget()


@pytest.fixture
def model() -> str:
    return embedder_get().name


def stored_vector(memory: Memory) -> np.ndarray:
    return np.frombuffer(bytes(MemoryEmbedding.objects.get(memory=memory).vector), dtype="<f4")


def database_vector(memory: Memory) -> np.ndarray:
    return np.asarray(MemoryVector.objects.get(pk=memory.pk).embedding, dtype=np.float32)


def unit_vectors(count: int, dimensions: int, seed: int) -> np.ndarray:
    """Vectors around one point, as the embeddings of related sentences are (pgvector
    0.6's HNSW search stops at a gap: it may return fewer than asked for when the
    rest lie far away, which a search would drop anyway, below the similarity floor)."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal(dimensions) + 0.7 * rng.standard_normal((count, dimensions))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def constraints_checked() -> None:
    """Check the rows this test wrote now: PostgreSQL refuses DDL on a table with
    deferred checks pending (a real write commits before any DDL)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def memories_without_embeddings(count: int) -> list[Memory]:
    return memories_create_bulk(
        memories=[Memory(content=f"Fact number {i}.") for i in range(count)], embed=False
    )


def test_the_start_up_message_says_where_vectors_are_searched(caplog):
    caplog.set_level(logging.INFO, logger="memories.pg_vectors")
    pg_vectors.pgvector_decision_forget()
    try:
        in_database = pgvector_in_use()
    finally:
        pg_vectors.pgvector_decision_forget()

    if connection.vendor == "sqlite":
        assert "Vector search: in process (sqlite)" in caplog.text
    elif in_database:
        assert "Vector search: PostgreSQL with pgvector" in caplog.text
    else:
        # The machine's PostgreSQL 15 (no pgvector package): the fallback, and why.
        assert "Vector search: in process, every process keeping every vector" in caplog.text
        assert caplog.records[-1].levelno == logging.WARNING


def test_a_new_memory_is_in_postgresqls_index_with_its_embeddings_stamp(pgvector, model):
    memory = memory_create(content="Kai plays the guitar.")

    assert np.array_equal(database_vector(memory), stored_vector(memory))
    hits = PgVectorIndex(model).nearest(stored_vector(memory), k=5)
    assert hits[0][0] == memory.pk
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert hits[0][2] == MemoryEmbedding.objects.get(memory=memory).updated_at
    assert isinstance(vector_index_for(model), PgVectorIndex)


def test_an_edit_replaces_the_vector_and_the_old_one_is_found_no_more(pgvector, model):
    """plur-ai/plur#812 (recall kept the vector of text that changed), blackfaced
    MemoryNexus#37 (an update did not re-upsert the vector)."""
    memory = memory_create(content="Kai plays the guitar.")
    old = stored_vector(memory)

    memory_update(memory=memory, content="Kai bakes sourdough bread.")

    new = embedder_get().embed(["Kai bakes sourdough bread."])[0]
    assert np.allclose(database_vector(memory), new, atol=1e-6)
    (hit,) = PgVectorIndex(model).nearest(old, k=5)
    assert hit[0] == memory.pk
    assert hit[1] == pytest.approx(float(old @ new), abs=1e-5) and hit[1] < 0.9


def test_an_edit_keeps_the_vector_off_until_the_new_one_is_stored(pgvector, model, settings):
    """With no embedder to recompute it, the edited memory has no vector at all: its
    old one is gone with its row, so it cannot be found by a meaning it lost."""
    memory = memory_create(content="Kai plays the guitar.")
    old = stored_vector(memory)
    settings.LUMA_EMBEDDING_SOURCE = "none"

    memory_update(memory=memory, content="Kai sold every instrument.")

    assert not MemoryVector.objects.filter(pk=memory.pk).exists()
    assert PgVectorIndex(model).nearest(old, k=5) == []


def test_deleted_memories_leave_nothing_to_find(pgvector, model):
    """ruvnet/ruflo#2815: a deleted memory stayed semantically searchable."""
    first = memory_create(content="Mina grows tomatoes.")
    others = [memory_create(content=f"Rio collects {thing}.") for thing in ("stamps", "coins")]
    query = stored_vector(first)

    memory_delete(memory=first)
    memories_delete(memory_ids=[memory.pk for memory in others])

    assert not MemoryVector.objects.exists()
    assert PgVectorIndex(model).nearest(query, k=10) == []


def test_a_memory_edited_while_its_vector_is_computed_gets_the_new_texts_vector(monkeypatch):
    """susomejias/rembric#257: the worker wrote the vector of what a row said before an
    edit that landed during inference, and it was never redone. Here the old vector is
    dropped and the edit's own task embeds the new text (on every database)."""
    embedder = embedder_get()
    memory = memory_create(content="Kai plays the guitar.")
    MemoryEmbedding.objects.filter(memory=memory).delete()
    real_embed = type(embedder).embed
    edits = []

    def embed_then_edit(self, texts):
        vectors = real_embed(self, texts)
        if not edits:
            edits.append(
                memory_update(memory=Memory.objects.get(pk=memory.pk), content="Kai sings.")
            )
        return vectors

    monkeypatch.setattr(type(embedder), "embed", embed_then_edit)
    from memories.services import memories_embed

    memories_embed(memory_ids=[memory.pk])

    expected = real_embed(embedder, ["Kai sings."])[0]
    assert np.allclose(stored_vector(memory), expected, atol=1e-6)
    if pgvector_in_use():
        assert np.allclose(database_vector(memory), expected, atol=1e-6)


def test_a_bulk_import_is_indexed_by_postgresql(pgvector, model):
    created = memories_create_bulk(
        memories=[
            Memory(content=f"{name} {like}.") for name in NAMES[:4] for like in LIKES
        ]  # 40 memories, embedded by the (immediate) background task
    )

    in_database = MemoryVector.objects.filter(embedding__isnull=False, model=model)
    assert in_database.count() == len(created) == 40
    for memory in created[:5]:
        assert np.array_equal(database_vector(memory), stored_vector(memory))


@pytest.fixture
def community(db) -> dict[str, User]:
    """80 memories: most about everyone, some about a viewer, some about a stranger."""
    viewer = User.objects.create_user("viewer")
    stranger = User.objects.create_user("stranger")
    rng = random.Random(5)
    memories = []
    for i, (name, like) in enumerate((n, lk) for n in NAMES for lk in LIKES):
        subject = [None, None, viewer, stranger][i % 4] if rng.random() < 0.5 else None
        memories.append(
            Memory(content=f"{name} {like}.", importance=rng.randint(1, 10), subject_user=subject)
        )
    memories_create_bulk(memories=memories)
    moderator = User.objects.create_user("mod")
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    owner = User.objects.create_superuser("boss")
    return {"viewer": viewer, "stranger": stranger, "moderator": moderator, "owner": owner}


@pytest.fixture
def vacuumed(transactional_db):
    """The embeddings' table without the dead rows earlier tests left in its HNSW
    index (an index scan gathers them as candidates, then drops them)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM memories_memoryembedding")


@pytest.mark.django_db(transaction=True)
def test_postgresql_finds_the_same_neighbours_as_the_in_process_index(
    pgvector, vacuumed, model, community
):
    in_process = VectorIndex(model)
    in_process.load()
    in_database = PgVectorIndex(model)
    queries = embedder_get().embed(QUERIES)

    for query in queries:
        expected = in_process.nearest(query, k=20)
        found = in_database.nearest(query, k=20)
        assert [hit[0] for hit in found] == [hit[0] for hit in expected]
        assert [hit[1] for hit in found] == pytest.approx([hit[1] for hit in expected], abs=1e-5)
        assert [hit[2] for hit in found] == [hit[2] for hit in expected]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["viewer", "stranger", "moderator", "owner"])
def test_search_ranks_as_with_the_in_process_index_for_every_role(
    pgvector, vacuumed, community, monkeypatch, role
):
    """Each role sees only what it may (a viewer: the memories about them), and the
    ranked page is the one the in-process index gives on the same data."""
    user = community[role]
    readable = memories_readable_by(user=user)

    def search() -> list[tuple[int, float, float | None]]:
        found = []
        for query in ("music and guitars", "painting cats", "learning a language", "games"):
            _, page = memory_search(
                queryset=readable, query=query, filters=MemoryFilters(), offset=0, limit=20
            )
            found += [(item.memory.pk, item.score, item.similarity) for item in page]
        return found

    in_database = search()
    monkeypatch.setitem(pg_vectors._decided, connection.alias, False)
    in_process = search()

    assert any(row[2] is not None for row in in_database)  # semantic hits among them
    assert [row[0] for row in in_database] == [row[0] for row in in_process]
    assert [row[1] for row in in_database] == pytest.approx([row[1] for row in in_process])
    if role in ("viewer", "stranger"):
        assert all(Memory.objects.get(pk=row[0]).subject_user == user for row in in_database)


def test_a_search_for_more_neighbours_than_pgvectors_default_gets_them_all(pgvector):
    """An index scan stops at hnsw.ef_search rows (40 by default), however many were
    asked for: dify #31894 / langgenius/dify#31896 (pgvector TopK cut with filters),
    pgvector/pgvector#480 (an HNSW query returning only part of the rows)."""
    created = memories_without_embeddings(300)
    vectors = unit_vectors(300, 384, seed=1)
    memory_embeddings_store(memory_ids=[m.pk for m in created], vectors=vectors, model="m")
    query = vectors[0]

    found = PgVectorIndex("m").nearest(query, k=120)

    exact = {created[i].pk for i in np.argsort(-(vectors @ query))[:120]}
    assert len(found) == 120
    assert len({hit[0] for hit in found} & exact) >= 114  # approximate, but not cut at 40
    assert len(PgVectorIndex("m").nearest(query, k=250)) == 250


def test_a_database_with_server_side_binding_gets_the_same_neighbours(pgvector, monkeypatch):
    created = memories_without_embeddings(60)
    vectors = unit_vectors(60, 384, seed=6)
    memory_embeddings_store(memory_ids=[m.pk for m in created], vectors=vectors, model="m")
    in_one_trip = PgVectorIndex("m").nearest(vectors[0], k=50)

    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)

    assert PgVectorIndex("m").nearest(vectors[0], k=50) == in_one_trip
    assert len(in_one_trip) == 50


def test_the_search_is_an_hnsw_index_scan(pgvector):
    created = memories_without_embeddings(50)
    vectors = unit_vectors(50, 384, seed=2)
    memory_embeddings_store(memory_ids=[m.pk for m in created], vectors=vectors, model="m")

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read
        plan = PgVectorIndex("m").neighbours(vectors[0], k=10).explain()

    assert "memories_embedding_hnsw_384" in plan


def test_another_models_vectors_get_their_own_index_and_never_mix(pgvector):
    """Switching to a model of another size neither fails nor mixes the two: HarperFast
    harper#786 (dimension mismatch with an HNSW index), cogniplex codemem#85 (index stuck
    at one dimension)."""
    small, large = memories_without_embeddings(30), memories_without_embeddings(30)
    small_vectors, large_vectors = unit_vectors(30, 384, seed=3), unit_vectors(30, 768, seed=4)
    memory_embeddings_store(memory_ids=[m.pk for m in small], vectors=small_vectors, model="mini")
    constraints_checked()
    memory_embeddings_store(memory_ids=[m.pk for m in large], vectors=large_vectors, model="big")

    assert PgVectorIndex("big").nearest(large_vectors[3], k=5)[0][0] == large[3].pk
    assert {hit[0] for hit in PgVectorIndex("big").nearest(large_vectors[3], k=50)} == {
        m.pk for m in large
    }
    assert {hit[0] for hit in PgVectorIndex("mini").nearest(small_vectors[0], k=50)} == {
        m.pk for m in small
    }
    assert PgVectorIndex("mini").nearest(large_vectors[0], k=5) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%hnsw%%'")
        assert {row[0] for row in cursor.fetchall()} >= {
            "memories_embedding_hnsw_384",
            "memories_embedding_hnsw_768",
        }


def test_vectors_wider_than_hnsw_allows_are_stored_and_found_by_a_scan(pgvector, caplog):
    """pgvector's HNSW stops at 2,000 dimensions: maxkuminov obsidian-mcp#6 (migration
    aborted on 3,072), vectorize-io hindsight#75 (index creation failed at runtime)."""
    caplog.set_level(logging.WARNING, logger="memories.pg_vectors")
    created = memories_without_embeddings(20)
    vectors = unit_vectors(20, 3072, seed=5)
    constraints_checked()

    memory_embeddings_store(memory_ids=[m.pk for m in created], vectors=vectors, model="wide")

    hits = PgVectorIndex("wide").nearest(vectors[7], k=3)
    assert hits[0][0] == created[7].pk
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert "3072 dimensions have no HNSW index" in caplog.text


@pytest.fixture
def app_account(pgvector):
    """A database owned by an account that is not a superuser, as on a managed
    PostgreSQL; yields a function making one (with the extension, or without)."""
    admin = psycopg.connect(
        dbname="postgres",
        **{
            key: value
            for key, value in connection.get_connection_params().items()
            if key in {"host", "port", "user", "password"}
        },
        autocommit=True,
    )
    admin.execute("CREATE ROLE luma_app LOGIN")
    made: list[str] = []

    def make(name: str, *, extension: bool) -> DatabaseWrapper:
        admin.execute(f"CREATE DATABASE {name} OWNER luma_app")
        made.append(name)
        if extension:
            with psycopg.connect(
                dbname=name, host=connection.settings_dict["HOST"], user="postgres"
            ) as owner_db:
                owner_db.execute("CREATE EXTENSION vector")
        wrapper = DatabaseWrapper(
            {**connection.settings_dict, "NAME": name, "USER": "luma_app"}, alias=f"probe_{name}"
        )
        connections[wrapper.alias] = wrapper
        with wrapper.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE memories_memoryembedding (memory_id bigint PRIMARY KEY, "
                "model varchar(200) NOT NULL, vector bytea NOT NULL, "
                "updated_at timestamptz NOT NULL)"
            )
            cursor.execute(
                "INSERT INTO memories_memoryembedding VALUES (1, 'm', %s, now())",
                [np.ones(3, dtype="<f4").tobytes()],
            )
        wrappers.append(wrapper)
        return wrapper

    wrappers: list[DatabaseWrapper] = []
    yield make
    for wrapper in wrappers:
        wrapper.close()
        del connections[wrapper.alias]
    for name in made:
        admin.execute(f"DROP DATABASE {name}")
    admin.execute("DROP ROLE luma_app")
    admin.close()


def test_an_account_that_cannot_create_the_extension_uses_one_already_there(app_account):
    """CREATE EXTENSION IF NOT EXISTS needs a superuser even when the extension is there:
    open-webui#12451 (start-up failed on Azure), danny-avila rag_api#275 (LibreChat)."""
    db = app_account("luma_probe_ready", extension=True)

    assert vector_column_install(db) is True

    with db.cursor() as cursor:
        cursor.execute("SELECT vector_dims(embedding) FROM memories_memoryembedding")
        assert cursor.fetchone() == (3,)


def test_without_the_extension_or_the_right_to_create_it_the_migration_still_passes(
    app_account, caplog
):
    caplog.set_level(logging.WARNING, logger="memories.pg_vectors")
    db = app_account("luma_probe_bare", extension=False)

    with transaction.atomic(using=db.alias):
        assert vector_column_install(db) is False
        with db.cursor() as cursor:  # the transaction is still usable
            cursor.execute("SELECT count(*) FROM memories_memoryembedding")
            assert cursor.fetchone() == (1,)
    assert "CREATE EXTENSION vector" in caplog.text


def test_enable_pgvector_moves_search_into_a_database_migrated_without_it(pgvector, model):
    memory = memory_create(content="Sol paints watercolour cats.")
    constraints_checked()
    pg_vectors.vector_column_drop(connection)
    pg_vectors.pgvector_decision_forget()
    assert pgvector_in_use() is False
    later = memory_create(content="Ada learns Japanese.")  # bytes only, as before
    constraints_checked()

    call_command("enable_pgvector", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pg_vectors.pgvector_decision_forget()

    assert pgvector_in_use() is True
    for written in (memory, later):
        assert np.array_equal(database_vector(written), stored_vector(written))
        assert PgVectorIndex(model).nearest(stored_vector(written), k=1)[0][0] == written.pk


def test_the_warm_up_loads_the_model_but_no_vectors_in_process(pgvector, monkeypatch, model):
    monkeypatch.setattr(embeddings, "_indexes", {})
    monkeypatch.setattr(embeddings, "_warm_up", None)
    memory = memory_create(content="Taro climbs at the bouldering gym.")

    vector_index_warm_up().join(30)

    assert embeddings._indexes == {}
    hits = vector_index_for(model).nearest(embedder_get().embed(["rock climbing"])[0], k=3)
    assert hits[0][0] == memory.pk
