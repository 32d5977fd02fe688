"""Fixtures shared by every app's tests: users, clients and fake model servers."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from luma.models import RuntimeSettings
from luma.roles import MODERATORS_GROUP
from luma.services import runtime_settings_get, runtime_settings_update
from memories.selectors import subject_names_forget
from providers.testing.fakes import FakeOllamaServer, FakeOpenAIServer

_DATABASE_FIXTURES = frozenset(["db", "transactional_db", "django_db_reset_sequences"])


def _uses_database(item: pytest.Item) -> bool:
    return bool(item.get_closest_marker("django_db")) or bool(
        _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With LUMA_TESTS_DATABASE_ONLY=1 (the PostgreSQL passes of scripts/test.sh) only the
    tests that use the test database run: the others (parsers, clients, subprocesses with
    a database of their own, the browser tests) cannot behave differently there."""
    if os.environ.get("LUMA_TESTS_DATABASE_ONLY") != "1":
        return
    others = [item for item in items if not _uses_database(item)]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [item for item in items if _uses_database(item)]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache, and the names search leaves out of a
    query's embedding in the process (read by memory id, which a rolled-back test
    hands out again): no test inherits another's."""
    cache.clear()
    subject_names_forget()
    yield
    cache.clear()


@pytest.fixture
def vectors_in_process(monkeypatch) -> None:
    """Vectors searched by this process's own index whatever the database: the tests
    of that index run on the pgvector pass too (where PostgreSQL would search)."""
    from django.db import connection

    from memories import pg_vectors

    monkeypatch.setitem(pg_vectors._decided, connection.alias, False)


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("viewer", password="pw-viewer-123")


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user("stranger", password="pw-stranger-123")


@pytest.fixture
def moderator_user(db) -> User:
    moderator = User.objects.create_user("mod", password="pw-mod-123")
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    return moderator


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser("boss", password="pw-boss-123")


@pytest.fixture
def user_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def moderator_client(moderator_user: User) -> Client:
    client = Client()
    client.force_login(moderator_user)
    return client


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def ollama_server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        yield server


@pytest.fixture
def use_deepseek(db, openai_server: FakeOpenAIServer) -> RuntimeSettings:
    """Runtime settings pointing at the fake OpenAI-compatible server."""
    runtime_settings_get()
    return runtime_settings_update(
        provider="deepseek",
        deepseek_api_key="sk-test-secret-key-1234",
        deepseek_base_url=openai_server.base_url,
        deepseek_model="fake-chat",
    )


@pytest.fixture
def use_ollama(db, ollama_server: FakeOllamaServer) -> RuntimeSettings:
    runtime_settings_get()
    return runtime_settings_update(
        provider="ollama", ollama_endpoint=ollama_server.url, ollama_model="fake-chat"
    )
