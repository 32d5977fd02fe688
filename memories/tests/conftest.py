from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from memories.models import Memory
from memories.services import memory_create


@pytest.fixture
def aged() -> Callable[[Memory, int], Memory]:
    """Make a memory look `days` old (as if written then)."""

    def make_old(memory: Memory, days: int) -> Memory:
        when = timezone.now() - timedelta(days=days)
        Memory.objects.filter(pk=memory.pk).update(created_at=when, updated_at=when)
        memory.refresh_from_db()
        return memory

    return make_old


@pytest.fixture
def remember(db) -> Callable[..., Memory]:
    def create(content: str, **fields) -> Memory:
        return memory_create(content=content, **fields)

    return create


@pytest.fixture
def lexical_only(settings) -> None:
    settings.LUMA_EMBEDDING_SOURCE = "none"


def fts_rowids() -> set[int] | None:
    """The memory ids in the SQLite full-text index (None elsewhere: PostgreSQL's
    index is part of the table)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM memories_memory_fts")
        return {row[0] for row in cursor.fetchall()}
