from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from luma.errors import LumaError
from memories.models import Memory, MemorySource, MemoryStatus


class InvalidMemory(LumaError):
    pass


class SuggestionAlreadyReviewed(LumaError):
    status_code = 409


def _clean_tags(tags: Iterable[Any]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).strip().lower()[:50]
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def _validated(memory: Memory) -> Memory:
    memory.content = memory.content.strip()
    memory.tags = _clean_tags(memory.tags or [])
    try:
        memory.full_clean(exclude=["updates", "created_by", "reviewed_by", "subject_user"])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise InvalidMemory(f"{field}: {problems[0]}", detail=str(error.message_dict)) from None
    return memory


def memory_create(
    *,
    content: str,
    source: str = MemorySource.MANUAL,
    importance: int = 5,
    tags: Iterable[str] = (),
    subject_user: AbstractBaseUser | None = None,
    subject_discord_id: str = "",
    subject_name: str = "",
    created_by: AbstractBaseUser | None = None,
    status: str | None = None,
    updates: Memory | None = None,
) -> Memory:
    """Add a memory. AI suggestions start pending; everything else is approved."""
    if status is None:
        status = (
            MemoryStatus.PENDING if source == MemorySource.AI_SUGGESTED else MemoryStatus.APPROVED
        )
    memory = Memory(
        content=content,
        source=source,
        importance=importance,
        tags=list(tags),
        subject_user=subject_user,
        subject_discord_id=subject_discord_id,
        subject_name=subject_name,
        created_by=created_by,
        status=status,
        updates=updates,
    )
    _validated(memory).save()
    return memory


def memory_update(*, memory: Memory, **changes: Any) -> Memory:
    allowed = {"content", "importance", "tags", "subject_name"}
    for field, value in changes.items():
        if field not in allowed:
            raise InvalidMemory(f"{field} cannot be changed.")
        if value is not None:
            setattr(memory, field, value)
    _validated(memory).save()
    return memory


def memory_delete(*, memory: Memory) -> None:
    memory.delete()


@transaction.atomic
def _review(memory: Memory, *, status: str, reviewer: AbstractBaseUser | None) -> Memory:
    """Move a pending suggestion to `status`, once: a second reviewer loses the race."""
    changed = Memory.objects.filter(pk=memory.pk, status=MemoryStatus.PENDING).update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now(), updated_at=timezone.now()
    )
    if not changed:
        raise SuggestionAlreadyReviewed("This suggestion was already reviewed.")
    memory.refresh_from_db()
    return memory


@transaction.atomic
def memory_approve(
    *, memory: Memory, reviewer: AbstractBaseUser | None = None, **edits: Any
) -> Memory:
    """Approve a pending suggestion, optionally after editing it.

    A suggestion that revises an existing memory is folded into that memory,
    which is returned; the suggestion itself goes away.
    """
    if edits:
        memory_update(memory=memory, **edits)
    memory = _review(memory, status=MemoryStatus.APPROVED, reviewer=reviewer)
    original = memory.updates
    if original is None:
        return memory
    memory_update(
        memory=original, content=memory.content, importance=memory.importance, tags=memory.tags
    )
    memory.delete()
    return original


def memory_reject(*, memory: Memory, reviewer: AbstractBaseUser | None = None) -> Memory:
    return _review(memory, status=MemoryStatus.REJECTED, reviewer=reviewer)


def memories_mark_used(*, memories: Iterable[Memory]) -> None:
    ids = [memory.pk for memory in memories]
    if ids:
        Memory.objects.filter(pk__in=ids).update(
            use_count=F("use_count") + 1, last_used_at=timezone.now()
        )
