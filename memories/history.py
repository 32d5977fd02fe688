"""A memory's versions, the memories deleted lately, and restoring either.

Versions are django-simple-history's `HistoricalMemory` rows, one per change (the
surface and actor of each come from `memories.changes`). Restoring an earlier
version is itself a change, recorded like any other. A deleted memory's versions
are kept 30 days, during which it can be restored under its old id; then they are
purged (`memories_deleted_purge`, run after each delete and by
`manage.py purge_deleted_memories`).

Who may: whoever may edit a memory (`memory_ensure_editable`) may see its
versions and restore it; for a deleted memory, the person it was about, a
moderator or the owner. Anyone else is told it does not exist (404).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from luma.errors import LumaError, NotFound
from luma.roles import Role, role_of
from memories.models import Memory, MemoryEmbedding, MemoryStatus
from memories.search_index import search_index_write
from memories.selectors import memories_readable_by
from memories.services import (
    InvalidMemory,
    _embed_later,
    _validated,
    memory_ensure_editable,
    memory_supersession_undo,
)

HistoricalMemory = Memory.history.model

DELETED_KEPT = timedelta(days=30)
# What restoring a version of a memory that still exists brings back; who it is
# about stays (changing that is a moderator's edit in the admin).
RESTORED_FIELDS = ("content", "importance", "tags", "status", "subject_name")
# The fields a version shows, and compares with the version before it.
VERSION_FIELDS = (
    "content",
    "importance",
    "tags",
    "status",
    "source",
    "subject_user_id",
    "subject_discord_id",
    "subject_name",
    "updates_id",
    "supersedes_id",
    "valid_until",
)
ACTIONS = {"+": "created", "~": "edited", "-": "deleted"}


class PersonGone(LumaError):
    status_code = 409


def _who(record: Any) -> str | None:
    user = record.history_user
    return user.get_username() if user is not None else (record.actor or None)


@dataclass(frozen=True)
class MemoryVersion:
    """One version of a memory (`fields`: the memory as it was then)."""

    record: Any  # a HistoricalMemory row
    changed: tuple[str, ...]
    number: int  # its place in the memory's history, 1 for the first (`_number`)

    version = property(lambda self: self.record.history_id)
    at = property(lambda self: self.record.history_date)
    surface = property(lambda self: self.record.surface)
    fields = property(lambda self: self.record)
    who = property(lambda self: _who(self.record))

    @property
    def action(self) -> str:
        return self.record.history_change_reason or ACTIONS[self.record.history_type]


@dataclass(frozen=True)
class DeletedMemory:
    """A memory deleted lately, as it was when deleted."""

    record: Any  # the HistoricalMemory row written when it was deleted

    id = property(lambda self: self.record.id)
    version = property(lambda self: self.record.history_id)
    deleted_at = property(lambda self: self.record.history_date)
    surface = property(lambda self: self.record.surface)
    fields = property(lambda self: self.record)
    who = property(lambda self: _who(self.record))

    @property
    def restorable_until(self) -> datetime:
        return self.record.history_date + DELETED_KEPT


def _history_visible_to(user: AbstractBaseUser) -> Q:
    """The versions `user` may see, by whom the memory was about."""
    if role_of(user) >= Role.MODERATOR:
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(subject_user_id=user.pk)


def _recently_deleted(user: AbstractBaseUser) -> QuerySet:
    return HistoricalMemory.objects.filter(
        _history_visible_to(user),
        history_type="-",
        history_date__gte=timezone.now() - DELETED_KEPT,
    )


def _last_deletion(user: AbstractBaseUser, memory_id: int) -> Any:
    """The record of `memory_id`'s deletion in the last 30 days, when `user` may see it."""
    if Memory.objects.filter(pk=memory_id).exists():
        return None
    return _recently_deleted(user).filter(id=memory_id).order_by("-history_date").first()


def _target(user: AbstractBaseUser, memory_id: int) -> tuple[Memory | None, Any]:
    """The memory `user` may edit, or the record of its deletion; NotFound otherwise."""
    memory = memories_readable_by(user=user).filter(pk=memory_id).first()
    if memory is not None:
        memory_ensure_editable(actor=user, memory=memory)
        return memory, None
    deletion = _last_deletion(user, memory_id)
    if deletion is None:
        raise NotFound(f"Memory {memory_id} does not exist (or was deleted over 30 days ago).")
    return None, deletion


def _changed(record: Any, older: Any | None) -> tuple[str, ...]:
    if older is None:
        return ()
    return tuple(f for f in VERSION_FIELDS if getattr(record, f) != getattr(older, f))


def memory_versions(*, user: AbstractBaseUser, memory_id: int) -> list[MemoryVersion]:
    """Every version of a memory (also of one deleted in the last 30 days), newest
    first, each with the fields it changed. Raises `NotFound` or `PermissionDenied`."""
    _target(user, memory_id)
    records = list(
        HistoricalMemory.objects.filter(id=memory_id)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    return [
        MemoryVersion(record=record, changed=_changed(record, older), number=len(records) - i)
        for i, (record, older) in enumerate(zip(records, [*records[1:], None], strict=True))
    ]


def _number(record: Any) -> int:
    """A version's place in its memory's history, 1 for the first: what a person reads
    ("restored version 3"). The version id (`history_id`) counts every memory's
    versions together, so it says nothing about this memory's."""
    earlier = Q(history_date__lt=record.history_date) | Q(
        history_date=record.history_date, history_id__lt=record.history_id
    )
    return HistoricalMemory.objects.filter(earlier, id=record.id).count() + 1


def memories_deleted(*, user: AbstractBaseUser, limit: int = 200) -> list[DeletedMemory]:
    """The memories deleted in the last 30 days that `user` may restore, newest first."""
    rows = _recently_deleted(user).select_related("history_user").order_by("-history_date")
    found: dict[int, Any] = {}
    for record in rows[: limit * 2]:
        found.setdefault(record.id, record)
    live = set(Memory.objects.filter(pk__in=found).values_list("pk", flat=True))
    return [DeletedMemory(record=r) for i, r in found.items() if i not in live][:limit]


def _version(memory_id: int, version: int) -> Any:
    record = HistoricalMemory.objects.filter(id=memory_id, history_id=version).first()
    if record is None:
        raise NotFound(f"Memory {memory_id} has no version {version}.")
    return record


@transaction.atomic
def _restore_fields(memory: Memory, record: Any, reason: str) -> Memory:
    """Set `record`'s restorable fields on `memory`; a new vector follows new text."""
    memory = Memory.objects.select_for_update().get(pk=memory.pk)
    old_content = memory.content
    before = [getattr(memory, field) for field in RESTORED_FIELDS]
    for field in RESTORED_FIELDS:
        setattr(memory, field, getattr(record, field))
    if memory.status == MemoryStatus.PENDING:
        memory.reviewed_by, memory.reviewed_at = None, None
    if [getattr(memory, field) for field in RESTORED_FIELDS] == before:
        return memory  # already so: no new version
    memory._change_reason = reason
    _validated(memory).save()
    search_index_write([memory])
    if memory.status != MemoryStatus.APPROVED:
        memory_supersession_undo(memory=memory)
    if memory.content != old_content:
        MemoryEmbedding.objects.filter(memory=memory).delete()
        transaction.on_commit(lambda: _embed_later([memory.pk]))
    return memory


def _existing_or_none(model: Any, pk: int | None) -> int | None:
    return pk if pk is not None and model.objects.filter(pk=pk).exists() else None


@transaction.atomic
def _undelete(record: Any) -> Memory:
    """Bring a deleted memory back under its old id, as `record` had it."""
    users = get_user_model()
    memory = record.instance
    if (
        memory.subject_user_id is not None
        and _existing_or_none(users, memory.subject_user_id) is None
    ):
        raise PersonGone("The person this memory was about no longer has an account.")
    memory.created_by_id = _existing_or_none(users, memory.created_by_id)
    memory.reviewed_by_id = _existing_or_none(users, memory.reviewed_by_id)
    memory.updates_id = _existing_or_none(Memory, memory.updates_id)
    memory.supersedes_id = _existing_or_none(Memory, memory.supersedes_id)
    memory.use_count, memory.last_used_at = 0, None
    memory._change_reason = f"restored version {_number(record)}"
    memory.save(force_insert=True)
    # auto_now_add stamped the restore's time; a restored memory keeps its birth date.
    Memory.objects.filter(pk=memory.pk).update(created_at=record.created_at)
    memory.created_at = record.created_at
    search_index_write([memory])
    return memory


def memory_restore(*, user: AbstractBaseUser, memory_id: int, version: int | None = None) -> Memory:
    """Restore a memory: to an earlier `version` (its text, importance, tags, status
    and subject name), a deleted one (as it was deleted, or as `version` had it),
    or, without a version, a rejected suggestion back to pending.

    Raises `NotFound` (404: no such memory or version, or not the user's),
    `InvalidMemory` (400: a memory that exists and is not rejected needs a version)
    and `PersonGone` (409: the deleted memory was about an account now gone).
    """
    memory, deletion = _target(user, memory_id)
    if memory is None:
        restored = _undelete(deletion if version is None else _version(memory_id, version))
        _embed_later([restored.pk])
        return restored
    if version is not None:
        record = _version(memory_id, version)
        return _restore_fields(memory, record, f"restored version {_number(record)}")
    if memory.status == MemoryStatus.REJECTED:
        return memory_back_to_pending(memory=memory, reason="back to pending")
    raise InvalidMemory("Say which version to restore: GET /api/memory/{id}/history lists them.")


def memory_back_to_pending(*, memory: Memory, reason: str) -> Memory:
    """Put a decided suggestion back in the review queue as it was suggested (its
    newest pending version), recorded as a version with `reason`."""
    return _restore_fields(memory, _pending_version(memory), reason)


def _pending_version(memory: Memory) -> Any:
    """The suggestion as it was before it was rejected (its newest pending version),
    or as it is now, marked pending."""
    record = (
        HistoricalMemory.objects.filter(id=memory.pk, status=MemoryStatus.PENDING)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is not None:
        return record
    current = HistoricalMemory(**{f: getattr(memory, f) for f in RESTORED_FIELDS})
    current.status = MemoryStatus.PENDING
    return current


def memories_deleted_purge(*, now: datetime | None = None) -> int:
    """Forget the versions of memories deleted over 30 days ago (and not restored
    since); returns how many versions went."""
    cutoff = (now or timezone.now()) - DELETED_KEPT
    expired = set(
        HistoricalMemory.objects.filter(history_type="-")
        .values("id")
        .annotate(last=Max("history_date"))
        .filter(last__lt=cutoff)
        .values_list("id", flat=True)
    )
    if not expired:
        return 0
    expired -= set(Memory.objects.filter(pk__in=expired).values_list("pk", flat=True))
    deleted, _ = HistoricalMemory.objects.filter(id__in=expired).delete()
    return deleted
