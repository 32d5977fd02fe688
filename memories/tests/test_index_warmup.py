"""The vector index loads in the background when a process starts answering people:
searches meanwhile are lexical and never wait, and nothing written during the load
is lost or comes back."""

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from discordbot.management.commands.runbot import run_bot
from memories import embeddings, selectors
from memories.embeddings import embedder_get, vector_index_for, vector_index_warm_up
from memories.models import Memory, MemoryEmbedding
from memories.selectors import memory_rank
from memories.services import memory_create, memory_delete, memory_update

# The loader runs on its own thread and connection: it sees only committed rows. These
# are tests of the in-process index, which a PostgreSQL with pgvector does without.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("vectors_in_process"),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_process(monkeypatch):
    """This process as just started: no vector index loaded, no warm-up begun."""
    monkeypatch.setattr(embeddings, "_indexes", {})
    monkeypatch.setattr(embeddings, "_warm_up", None)
    monkeypatch.setattr(selectors, "_loading_noted", False)
    yield
    if embeddings._warm_up is not None:
        embeddings._warm_up.join(30)


class HeldLoader:
    """Holds every full load of the vectors right after it read them, until released."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self.loads = 0

    def wrap(self, read):
        def read_then_hold(model, *, since=None):
            rows = read(model, since=since)
            if since is None:
                self.loads += 1
                self.holding.set()
                self.release.wait(30)
            return rows

        return read_then_hold


@pytest.fixture
def held_loader(monkeypatch):
    loader = HeldLoader()
    monkeypatch.setattr(embeddings, "_vectors_read", loader.wrap(embeddings._vectors_read))
    yield loader
    loader.release.set()


def ranked(query: str) -> dict[Memory, float | None]:
    """The memories a search finds, with their similarity (None: found by words only)."""
    return {
        item.memory: item.similarity for item in memory_rank(queryset=Memory.objects, query=query)
    }


def test_a_search_during_warm_up_is_lexical_and_does_not_wait(fresh_process, held_loader, caplog):
    caplog.set_level(logging.INFO, logger="memories.selectors")
    wanted = memory_create(content="Mina bakes sourdough bread every Sunday.")
    memory_create(content="Kai adopted a kitten.")
    warm_up = vector_index_warm_up()
    assert held_loader.holding.wait(30)

    started = time.monotonic()
    first = ranked("sourdough")
    second = ranked("a new cat")
    took = time.monotonic() - started

    assert took < 1.0  # the loader is held for up to 30 s
    assert first == {wanted: None}
    assert second == {}
    assert caplog.text.count("searches are lexical until it is ready") == 1
    held_loader.release.set()
    warm_up.join(30)


def test_after_warm_up_semantic_results_come_back(fresh_process):
    kitten = memory_create(content="Kai adopted a kitten.")

    vector_index_warm_up().join(30)

    found = ranked("a new cat")
    assert list(found) == [kitten]
    assert found[kitten] > 0.3


def test_memories_written_during_the_load_are_in_the_index_after_it(fresh_process, held_loader):
    edited = memory_create(content="Mina collects stamps.")
    deleted = memory_create(content="Rin plays the violin.")
    warm_up = vector_index_warm_up()
    assert held_loader.holding.wait(30)

    added = memory_create(content="Sora grows tomatoes in her garden.")
    memory_update(memory=edited, content="Mina climbs mountains.")
    memory_delete(memory=deleted)
    held_loader.release.set()
    warm_up.join(30)

    assert ranked("vegetable gardening").get(added) is not None
    assert ranked("hiking up a peak").get(edited) is not None
    assert edited not in ranked("philately")
    assert deleted.content not in {memory.content for memory in ranked("string instrument")}
    index = vector_index_for(embedder_get().name)
    stored = MemoryEmbedding.objects.get(memory=edited).updated_at
    assert index.stamps[index.row_of[edited.pk]] == stored


def test_a_reload_after_deletions_is_built_beside_the_index(fresh_process, held_loader):
    kept = memory_create(content="Kai adopted a kitten.")
    deleted = memory_create(content="Rin plays the violin.")
    held_loader.release.set()
    vector_index_warm_up().join(30)
    index = vector_index_for(embedder_get().name)
    held_loader.holding.clear()
    held_loader.release.clear()

    memory_delete(memory=deleted)
    index.checked_at = 0.0  # as a minute later: the count of vectors no longer matches
    found = ranked("a new cat")  # starts the reload, which is held
    assert held_loader.holding.wait(30)
    during = ranked("a new cat")
    held_loader.release.set()
    with index.load_lock:  # the reload is done
        pass

    assert found == during and list(during) == [kept] and during[kept] is not None
    assert deleted.pk not in index.row_of and kept.pk in index.row_of


def test_warm_up_is_started_once(fresh_process, held_loader):
    memory_create(content="Kai adopted a kitten.")

    first = vector_index_warm_up()
    second = vector_index_warm_up()
    held_loader.release.set()
    first.join(30)

    assert first is second
    assert vector_index_warm_up() is first
    assert held_loader.loads == 1


def test_nothing_warms_up_on_import_and_the_asgi_application_starts_it(tmp_path):
    script = (
        "import threading, django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "import memories.selectors, discordbot.management.commands.runbot\n"
        "from memories import embeddings\n"
        "call_command('check', verbosity=0)\n"
        "names = {t.name for t in threading.enumerate()}\n"
        "print('idle:', embeddings._warm_up is None and 'luma-vector-warm-up' not in names)\n"
        "import config.asgi\n"
        "print('started:', embeddings._warm_up is not None)\n"
        "embeddings._warm_up.join(30)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "LUMA_DATA_DIR": str(tmp_path),
        "LUMA_EMBEDDING_SOURCE": "none",
        "LUMA_VECTOR_WARM_UP": "true",
    }

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )

    reported = [line for line in done.stdout.splitlines() if line.startswith(("idle", "started"))]
    assert reported == ["idle: True", "started: True"], done.stdout + done.stderr


class DiscordGateway:
    """The bot's side of Discord: logs in and connects at once, then goes away."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def login(self, token: str) -> None:
        self.steps.append("login")

    async def connect(self, *, reconnect: bool) -> None:
        started = embeddings._warm_up is not None
        self.steps.append("connect, warming up" if started else "connect")


def test_the_discord_bot_starts_the_warm_up_once_logged_in(fresh_process, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    settings.LUMA_VECTOR_WARM_UP = True
    gateway = DiscordGateway()

    asyncio.run(run_bot(gateway, "token"))

    assert gateway.steps == ["login", "connect, warming up"]
