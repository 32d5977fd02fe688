"""Export and import of memories as JSON lines: every field, a lossless round trip.

People are written by username (ids differ between installations). An import
keeps the memories' ids when none of them is taken, and renumbers otherwise
(keeping `updates` and `supersedes` links). Imported memories are searchable lexically as soon
as the import commits; their embeddings follow in a background task.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from memories.changes import Surface, memory_changes_by
from memories.models import Memory
from memories.services import InvalidMemory, memories_create_bulk

_DATES = ("reviewed_at", "last_used_at", "created_at", "updated_at", "valid_until")
_PEOPLE = ("subject_user", "created_by", "reviewed_by")
_BATCH = 5000


def _as_line(memory: Memory, usernames: dict[int, str]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": memory.pk,
        "content": memory.content,
        "source": memory.source,
        "status": memory.status,
        "importance": memory.importance,
        "tags": memory.tags,
        "subject_discord_id": memory.subject_discord_id,
        "subject_name": memory.subject_name,
        "updates": memory.updates_id,
        "supersedes": memory.supersedes_id,
        "use_count": memory.use_count,
    }
    for field in _PEOPLE:
        user_id = getattr(memory, f"{field}_id")
        line[field] = usernames.get(user_id) if user_id is not None else None
    for field in _DATES:
        value = getattr(memory, field)
        line[field] = value.isoformat() if value is not None else None
    return line


def memories_export(*, out: TextIO, queryset: QuerySet[Memory] | None = None) -> int:
    """Write memories as JSON lines, oldest first; returns how many."""
    queryset = Memory.objects.all() if queryset is None else queryset
    usernames = dict(get_user_model().objects.values_list("pk", "username"))
    count = 0
    for memory in queryset.order_by("pk").iterator(chunk_size=_BATCH):
        out.write(json.dumps(_as_line(memory, usernames), ensure_ascii=False) + "\n")
        count += 1
    return count


def _parsed(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise InvalidMemory(f"Line {number}: not JSON ({error}).") from None
        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            raise InvalidMemory(f"Line {number}: expected an object with a content string.")
        yield number, data


def _date(value: Any, number: int, field: str) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidMemory(f"Line {number}: {field} is not an ISO date-time.")
    return parsed


def _memory_from(data: dict[str, Any], number: int, users: dict[str, Any]) -> Memory:
    subject = data.get("subject_user")
    if subject is not None and subject not in users:
        raise InvalidMemory(f"Line {number}: no user named {subject!r} (the memory is about them).")
    tags = data.get("tags") or []
    importance = data.get("importance", 5)
    if not isinstance(tags, list) or not isinstance(importance, int):
        raise InvalidMemory(f"Line {number}: tags must be a list and importance an integer.")
    memory = Memory(
        content=data["content"],
        source=data.get("source", "manual"),
        status=data.get("status", "approved"),
        importance=importance,
        tags=tags,
        subject_user=users.get(subject) if subject else None,
        subject_discord_id=str(data.get("subject_discord_id") or ""),
        subject_name=str(data.get("subject_name") or "")[:150],
        created_by=users.get(data.get("created_by") or ""),
        reviewed_by=users.get(data.get("reviewed_by") or ""),
        use_count=max(0, int(data.get("use_count") or 0)),
    )
    memory.reviewed_at = _date(data.get("reviewed_at"), number, "reviewed_at")
    memory.last_used_at = _date(data.get("last_used_at"), number, "last_used_at")
    memory.valid_until = _date(data.get("valid_until"), number, "valid_until")
    return memory


def _ids_taken(ids: list[int]) -> bool:
    return any(
        Memory.objects.filter(pk__in=ids[start : start + _BATCH]).exists()
        for start in range(0, len(ids), _BATCH)
    )


def _restore(rows: list[tuple[Any, ...]], sql: str) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(sql, rows[start : start + _BATCH])


def memories_import(*, lines: Iterable[str], embed: bool = True) -> int:
    """Import JSON lines written by `memories_export`; all or nothing. Returns how many."""
    parsed = list(_parsed(lines))
    names = {d.get(f) for _, d in parsed for f in _PEOPLE if isinstance(d.get(f), str)}
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    memories = [_memory_from(data, number, users) for number, data in parsed]
    old_ids = [data.get("id") for _, data in parsed]
    keep_ids = all(isinstance(i, int) for i in old_ids) and len(set(old_ids)) == len(old_ids)
    with transaction.atomic(), memory_changes_by(surface=Surface.IMPORT):
        keep_ids = keep_ids and not _ids_taken(old_ids)
        if keep_ids:
            for memory, old_id in zip(memories, old_ids, strict=True):
                memory.pk = old_id
        created = memories_create_bulk(memories=memories, embed=embed)
        if keep_ids and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Memory]):
                    cursor.execute(sql)
        new_id = {
            old: memory.pk
            for old, memory in zip(old_ids, created, strict=True)
            if isinstance(old, int)
        }
        _restore_links_and_dates(parsed, created, new_id)
    return len(created)


def _restore_links_and_dates(
    parsed: list[tuple[int, dict[str, Any]]], created: list[Memory], new_id: dict[Any, int]
) -> None:
    """Set what bulk creation cannot: `updates` and `supersedes` links and the original
    timestamps."""
    field = Memory._meta.get_field("created_at")

    def prep(value: datetime | None) -> Any:
        return field.get_db_prep_value(value, connection) if value is not None else None

    for link in ("updates", "supersedes"):
        links = [
            (new_id[data[link]], memory.pk)
            for (_, data), memory in zip(parsed, created, strict=True)
            if isinstance(data.get(link), int) and data[link] in new_id
        ]
        _restore(links, f"UPDATE memories_memory SET {link}_id = %s WHERE id = %s")  # noqa: S608
    dates = []
    for (number, data), memory in zip(parsed, created, strict=True):
        created_at = _date(data.get("created_at"), number, "created_at") or memory.created_at
        updated_at = _date(data.get("updated_at"), number, "updated_at") or memory.updated_at
        dates.append((prep(created_at), prep(updated_at), memory.pk))
    _restore(dates, "UPDATE memories_memory SET created_at = %s, updated_at = %s WHERE id = %s")
