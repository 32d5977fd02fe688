"""Retrieval latency: p50/p95 of `memories_for_prompt` at 1,000, 10,000 and 100,000 memories.

Seeds a fresh database (SQLite in a temporary folder unless DATABASE_URL says
otherwise) through Luma's own bulk service, grows it to each size, and times
the whole retrieval a prompt makes: query embedding (MiniLM, in process),
full-text search, vector search, fusion and the token budget. Every query is
new text, so no cached query vector helps.

Memory text is synthetic with a Zipf vocabulary (MiniLM's words), as real text
has: a few words are everywhere, most are rare. Computing 100,000 embeddings
takes minutes and does not change the search cost, so memories carry one of
2,000 real MiniLM embeddings of bench sentences plus a little noise; the query
itself is embedded for real each time.

Cold start: at each size, new processes start as a server does (Django set up,
`vector_index_warm_up()` called) and send their first query at once. `cold ms`
is that query's answer time (lexical while the index loads; the slowest of
`--cold-runs` processes), `warm-up s` how long loading the model and every
vector took (the median), `ready ms` a first query once it is done.

`floor p95` is what no retrieval can beat on the same vectors: embedding the query
plus an exact numpy scan of every vector (the p95 of their sum, per query), and
`x floor` the retrieval's p95 over it. The scan runs as Luma's processes run numpy,
on one BLAS thread (`memories.embeddings._blas_one_thread`); `floor*` scans on every
core instead, the fastest a scan alone can be, and `x floor*` is the p95 over that.

`--pgserver` runs the same on a private PostgreSQL 16 with pgvector (the `pgserver`
wheel, started in a temporary folder and removed afterwards), where PostgreSQL's
HNSW index does the vector search (`memories.pg_vectors`) and no process loads the
vectors; `vector p50` is then that search.

    .venv/bin/python bench/bench_retrieval.py [--sizes 1000,10000,100000] [--queries 200]
    .venv/bin/python bench/bench_retrieval.py --pgserver --sizes 100000
"""

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchenv import ROOT, django_setup

if "--pgserver" in sys.argv and "DATABASE_URL" not in os.environ:
    # Again, inside a private PostgreSQL with pgvector that is removed afterwards.
    wrapper = ROOT / "scripts" / "with_pgserver.py"
    sys.exit(subprocess.call([sys.executable, str(wrapper), sys.executable, *sys.argv]))

django_setup("retrieval")

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from memories import selectors  # noqa: E402
from memories.embeddings import embedder_get, vector_index_for  # noqa: E402
from memories.models import Memory, MemoryEmbedding  # noqa: E402
from memories.pg_vectors import pgvector_in_use  # noqa: E402
from memories.search_index import STOPWORDS, lexical_search  # noqa: E402
from memories.selectors import memories_for_prompt, memories_visible_to  # noqa: E402
from memories.services import memories_create_bulk, memory_embeddings_store  # noqa: E402

VERBS = [
    "loves", "plays", "collects", "hates", "streams", "paints", "studies", "cooks",
    "watches", "builds", "writes about", "dreams of", "practises", "reviews", "sells",
]  # fmt: skip
WHEN = [
    "on Fridays", "every morning", "since 2019", "with friends", "on stream", "at night",
    "during summer", "in Berlin", "after work", "on weekends", "in secret", "for charity",
]  # fmt: skip
# A new process: its first query is sent as soon as the warm-up has started.
COLD_START = """
import json, sys, time
import django
django.setup()
from django.contrib.auth.models import User
from memories.embeddings import vector_index_warm_up, vector_index_warming
from memories.selectors import memories_for_prompt

first_query, ready_query = sys.argv[1:3]
user = User.objects.get(username="viewer0")
started = time.perf_counter()
warm_up = vector_index_warm_up()
memories_for_prompt(query=first_query, user=user, limit=8, token_budget=2000)
first = time.perf_counter() - started
lexical = vector_index_warming()
warm_up.join()
warmed = time.perf_counter() - started
memories_for_prompt(query=ready_query, user=user, limit=8, token_budget=2000)
ready = time.perf_counter() - started - warmed
print(json.dumps({"first": first, "lexical": lexical, "warm_up": warmed, "ready": ready}))
"""
QUESTIONS = [
    "What does {name} think about {thing}?",
    "Does {name} still like {thing} and {other}?",
    "Tell me about {name} and {thing}.",
    "who here is into {thing}?",
    "any tips on {thing} {when}, {name}?",
]


class Vocabulary:
    """Words with a Zipf distribution (as in real text: a few common, most rare),
    taken from MiniLM's own vocabulary so every word is one the model knows."""

    def __init__(self, rng: random.Random) -> None:
        vocab = json.loads(Path(settings.LUMA_EMBEDDING_TOKENIZER_PATH).read_text())
        words = sorted(
            word
            for word in vocab["model"]["vocab"]
            if word.isalpha() and word.isascii() and len(word) > 3 and word not in STOPWORDS
        )
        rng.shuffle(words)
        self.words = words
        self.weights = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
        self.names = [f"{rng.choice(words).capitalize()}{rng.randrange(100)}" for _ in range(2000)]
        self.rng = rng
        self.vectors = np.zeros((0, 384), dtype=np.float32)

    def word(self) -> str:
        return self.rng.choices(self.words, cum_weights=self.weights)[0]

    def name(self) -> str:
        # Viewers are Zipf too: a few regulars, many occasional ones.
        return self.names[min(len(self.names) - 1, int(self.rng.paretovariate(1.0)) - 1)]


def memory_text(vocabulary: Vocabulary, rng: random.Random) -> str:
    things = " ".join(vocabulary.word() for _ in range(3))
    return f"{vocabulary.name()} {rng.choice(VERBS)} {things} {rng.choice(WHEN)}."


def query_text(vocabulary: Vocabulary, rng: random.Random, i: int) -> str:
    return QUESTIONS[i % len(QUESTIONS)].format(
        name=vocabulary.name(),
        thing=vocabulary.word(),
        other=vocabulary.word(),
        when=rng.choice(WHEN),
    )


def seed(count: int, start: int, users: list[User], model: str, vocabulary: Vocabulary) -> None:
    """Add `count` memories (a tenth about one of `users`) with random unit vectors."""
    for offset in range(0, count, 10_000):
        batch = []
        for i in range(start + offset, start + min(count, offset + 10_000)):
            subject = users[i % len(users)] if i % 10 == 0 else None
            batch.append(
                Memory(
                    content=memory_text(vocabulary, vocabulary.rng),
                    importance=vocabulary.rng.randint(1, 10),
                    tags=[vocabulary.rng.choice(["games", "food", "music", "life"])],
                    subject_user=subject,
                )
            )
        created = memories_create_bulk(memories=batch, embed=False)
        noise = np.random.default_rng(start + offset).standard_normal((len(created), 384))
        vectors = vocabulary.vectors[[m.pk % len(vocabulary.vectors) for m in created]]
        vectors = vectors + 0.02 * noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        memory_embeddings_store(
            memory_ids=[memory.pk for memory in created], vectors=vectors, model=model
        )


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(queries: list[str], user: User) -> dict[str, list[float]]:
    embedder = embedder_get()
    assert embedder is not None
    visible = memories_visible_to(user=user)
    times: dict[str, list[float]] = {"total": [], "embed": [], "lexical": [], "vector": []}
    cpu_started = time.process_time()
    for query in queries:
        selectors._query_vectors.clear()  # every query embedded for real
        times["total"].append(
            timed(
                lambda q=query: memories_for_prompt(query=q, user=user, limit=8, token_budget=2000)
            )
        )
    # CPU time (all threads) per query: what the wall time approaches on an idle machine.
    times["cpu"] = [(time.process_time() - cpu_started) * 1000 / len(queries)]
    index = vector_index_for(embedder.name)
    assert index is not None
    stored = MemoryEmbedding.objects.filter(model=embedder.name).values_list("vector", flat=True)
    matrix = np.stack([np.frombuffer(bytes(raw), dtype="<f4") for raw in stored])
    times["floor"], times["floor_all_cores"] = [], []
    for i, query in enumerate(queries):
        selectors._query_vectors.clear()
        embedded = timed(lambda q=query: embedder.embed([q]))
        vector = embedder.embed([query])[0]
        times["floor"].append(embedded + timed(lambda v=vector: exact_top(matrix, v, 64)))
        with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
            scanned = timed(lambda v=vector: exact_top(matrix, v, 64))
        times["floor_all_cores"].append(embedded + scanned)
        if i < 50:
            times["embed"].append(embedded)
            times["lexical"].append(timed(lambda q=query: lexical_search(visible, q, limit=32)))
            times["vector"].append(timed(lambda v=vector: index.nearest(v, k=64)))
    return times


def exact_top(matrix: np.ndarray, vector: np.ndarray, k: int) -> np.ndarray:
    """The floor's scan: every vector compared, the best `k` kept."""
    scores = matrix @ vector
    return np.argpartition(-scores, k - 1)[:k]


def cold_start(queries: list[str]) -> dict[str, float]:
    """Start a process per pair of queries; the slowest first answer, the median warm-up."""
    runs = []
    for first_query, ready_query in itertools.pairwise(queries):
        done = subprocess.run(
            [sys.executable, "-c", COLD_START, first_query, ready_query],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    return {
        "first": max(run["first"] for run in runs) * 1000,
        "lexical": all(run["lexical"] for run in runs),
        "warm_up": statistics.median(run["warm_up"] for run in runs),
        "ready": statistics.median(run["ready"] for run in runs) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument(
        "--pgserver", action="store_true", help="on a private PostgreSQL with pgvector"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    call_command("migrate", verbosity=0)
    users = [User.objects.create_user(f"viewer{i}") for i in range(50)]
    embedder = embedder_get()
    assert embedder is not None, "the benchmark needs the embedding model"
    rng = random.Random(7)
    vocabulary = Vocabulary(rng)
    vocabulary.vectors = embedder.embed([memory_text(vocabulary, rng) for _ in range(2000)])
    searched_by = "PostgreSQL (pgvector HNSW)" if pgvector_in_use() else "numpy, in process"
    print(
        f"database: {connection.vendor}; vectors searched by: {searched_by}; "
        f"embedder: {embedder.name}; cores: {os.cpu_count()}; "
        f"load average: {os.getloadavg()[0]:.1f}"
    )
    print(f"{'memories':>9} {'seed s':>7} {'p50 ms':>7} {'p95 ms':>7} {'mean ms':>8} "
          f"{'CPU ms':>7} {'embed p50':>9} {'FTS p50':>8} {'vector p50':>10} "
          f"{'floor p95':>9} {'x floor':>7} {'floor* p95':>10} {'x floor*':>8} "
          f"{'cold ms':>8} {'warm-up s':>9} {'ready ms':>8}")  # fmt: skip
    have = 0
    previous_p95 = None
    for size in sizes:
        started = time.perf_counter()
        seed(size - have, have, users, embedder.name, vocabulary)
        seeded = time.perf_counter() - started
        have = size
        queries = [query_text(vocabulary, rng, i) for i in range(args.queries + 20)]
        cold = cold_start([query_text(vocabulary, rng, i) for i in range(args.cold_runs + 1)])
        measure(queries[:20], users[0])  # warm up: vector index load, caches
        times = measure(queries[20:], users[0])
        p95 = percentile(times["total"], 0.95)
        floor = percentile(times["floor"], 0.95)
        floor_all = percentile(times["floor_all_cores"], 0.95)
        growth = f"  (p95 x{p95 / previous_p95:.2f})" if previous_p95 else ""
        previous_p95 = p95
        print(
            f"{size:>9,} {seeded:>7.1f} {percentile(times['total'], 0.5):>7.2f} {p95:>7.2f} "
            f"{statistics.mean(times['total']):>8.2f} {times['cpu'][0]:>7.2f} "
            f"{percentile(times['embed'], 0.5):>9.2f} "
            f"{percentile(times['lexical'], 0.5):>8.2f} {percentile(times['vector'], 0.5):>10.2f} "
            f"{floor:>9.2f} {p95 / floor:>7.2f} {floor_all:>10.2f} {p95 / floor_all:>8.2f} "
            f"{cold['first']:>8.1f} {cold['warm_up']:>9.2f} {cold['ready']:>8.1f}"
            f"{'' if cold['lexical'] else ' (loaded before the first answer)'}{growth}"
        )


if __name__ == "__main__":
    main()
