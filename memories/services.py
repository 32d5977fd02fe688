"""Writes to memories. Every write keeps the search index in sync: the lexical
index at once (in the same transaction), the embedding in a background task."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from luma.errors import LumaError, PermissionDenied
from luma.roles import Role, role_of, role_require
from memories.changes import (
    change_actor,
    change_surface,
    change_user,
    memory_deletions_recorded,
)
from memories.embeddings import embedder_get, vector_to_bytes
from memories.models import (
    IMPORTANCE_MAX,
    IMPORTANCE_MIN,
    Memory,
    MemoryEmbedding,
    MemorySource,
    MemoryStatus,
    MemoryVector,
    SuggestionRun,
)
from memories.pg_vectors import memory_vectors_store, pgvector_in_use
from memories.privacy import CATEGORY_LABELS, Blocklist, privacy_redacted
from memories.search_index import search_index_remove, search_index_write
from memories.subjects import subject_parse

logger = logging.getLogger(__name__)


class InvalidMemory(LumaError):
    pass


class SuggestionAlreadyReviewed(LumaError):
    status_code = 409


class MemoryAlreadySuperseded(LumaError):
    status_code = 409


def _clean_tags(tags: Iterable[Any]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).replace("\x00", "").strip().lower()[:50]
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
    confidence: float | None = None,
) -> Memory:
    """Add a memory. AI suggestions start pending, their wording kept apart from
    later edits, with how sure the model was (`confidence`, 0-1, or None); everything
    else is approved."""
    suggested = source == MemorySource.AI_SUGGESTED
    if status is None:
        status = MemoryStatus.PENDING if suggested else MemoryStatus.APPROVED
    memory = Memory(
        content=content,
        suggested_content=content.strip() if suggested else "",
        source=source,
        importance=importance,
        tags=list(tags),
        subject_user=subject_user,
        subject_discord_id=subject_discord_id,
        subject_name=subject_name,
        created_by=created_by,
        status=status,
        updates=updates,
        confidence=confidence,
    )
    memory._change_reason = "suggested" if status == MemoryStatus.PENDING else "created"
    with transaction.atomic():
        _validated(memory).save()
        search_index_write([memory])
    _embed_later([memory.pk])
    return memory


def memory_update(*, memory: Memory, **changes: Any) -> Memory:
    allowed = {"content", "importance", "tags", "subject_name"}
    for field in changes:
        if field not in allowed:
            raise InvalidMemory(f"{field} cannot be changed.")
    old_content = memory.content
    before = [getattr(memory, field) for field in allowed]
    for field, value in changes.items():
        if value is not None:
            setattr(memory, field, value)
    _validated(memory)
    if [getattr(memory, field) for field in allowed] == before:
        return memory  # nothing changed: no new version
    memory._change_reason = "edited"
    with transaction.atomic():
        memory.save()
        search_index_write([memory])
        if memory.content != old_content:
            MemoryEmbedding.objects.filter(memory=memory).delete()
    if memory.content != old_content:
        _embed_later([memory.pk])
    return memory


@transaction.atomic
def memory_delete(*, memory: Memory) -> None:
    """Delete a memory; its history keeps it restorable for 30 days
    (`memories.history.memory_restore`), after which it is purged."""
    from memories.history import memories_deleted_purge  # it imports this module

    search_index_remove([memory.pk])
    memory._change_reason = "deleted"
    memory.delete()
    memories_deleted_purge()


@transaction.atomic
def memories_delete(*, memory_ids: Sequence[int]) -> int:
    """Delete many memories at once (e.g. every memory of a removed document), each
    restorable for 30 days like one deleted alone."""
    search_index_remove(memory_ids)
    _deletions_record(memory_ids)
    with memory_deletions_recorded():
        deleted, _ = Memory.objects.filter(pk__in=memory_ids).delete()
    return deleted


def _versions_record(
    memory_ids: Sequence[int], *, history_type: str, reason: str, batch_size: int = 2000
) -> None:
    """One version per memory (`history_type` "+" created, "~" changed, "-" deleted),
    as the rows are now, copied by the database itself (`INSERT … SELECT`) with the
    current change context's user, surface and actor.

    django-simple-history's `bulk_history_create` builds a model instance per row and
    has Django prepare each field: a 200-page PDF's 400 memories took longer to record
    than to create, and a version per row through the delete signal 8 times as long as
    the delete itself."""
    historical = Memory.history.model
    quote = connection.ops.quote_name
    copied = [quote(field.column) for field in historical.tracked_fields]
    added = ["history_date", "history_type", "history_user_id", "history_change_reason"]
    added += ["surface", "actor"]
    user = change_user()
    values = [timezone.now(), history_type, user.pk if user else None, reason]
    values += [change_surface(), change_actor()]
    columns = ", ".join(copied + [quote(name) for name in added])
    select = ", ".join(copied + ["%s"] * len(added))
    with connection.cursor() as cursor:
        for start in range(0, len(memory_ids), batch_size):
            batch = list(memory_ids[start : start + batch_size])
            cursor.execute(
                f"INSERT INTO {quote(historical._meta.db_table)} ({columns}) "  # noqa: S608
                f"SELECT {select} FROM {quote(Memory._meta.db_table)} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(batch))})",
                [*values, *batch],
            )


def _deletions_record(memory_ids: Sequence[int]) -> None:
    """One "deleted" version per memory, before the rows go."""
    _versions_record(memory_ids, history_type="-", reason="deleted")


def memories_make_global(*, memory_ids: Sequence[int]) -> int:
    """Make memories about everyone (a viewer's document that a moderator uploads too);
    returns how many changed. Their text, and so their index entries, stay."""
    with transaction.atomic():
        changed = Memory.objects.filter(pk__in=memory_ids).update(
            subject_user=None, subject_discord_id="", updated_at=timezone.now()
        )
        _versions_record(memory_ids, history_type="~", reason="made global")
    return changed


def memory_index_sync(*, memory: Memory) -> None:
    """Re-index a memory saved outside these services (the admin's change form)."""
    with transaction.atomic():
        search_index_write([memory])
        MemoryEmbedding.objects.filter(memory=memory).delete()
    _embed_later([memory.pk])


def _check_bulk_row(memory: Memory, position: int) -> None:
    """The checks `full_clean` makes, done cheaply enough for 100,000 rows."""
    memory.content = (memory.content or "").strip()
    memory.tags = _clean_tags(memory.tags or [])
    problem = ""
    if not memory.content:
        problem = "content: This field cannot be blank."
    elif "\x00" in memory.content:
        problem = "content: Null characters are not allowed."
    elif not IMPORTANCE_MIN <= int(memory.importance) <= IMPORTANCE_MAX:
        problem = f"importance: must be {IMPORTANCE_MIN} to {IMPORTANCE_MAX}."
    elif memory.status not in MemoryStatus.values:
        problem = f"status: {memory.status!r} is not one of {MemoryStatus.values}."
    elif memory.source not in MemorySource.values:
        problem = f"source: {memory.source!r} is not one of {MemorySource.values}."
    elif memory.subject_user_id is not None and memory.subject_discord_id:
        problem = "subject: a memory is about a web user or a Discord user, not both."
    if problem:
        raise InvalidMemory(f"Memory {position + 1}: {problem}")


# Rows one bulk create must add before PostgreSQL's statistics are refreshed at once.
ANALYZE_AFTER_ROWS = 1000


def memories_create_bulk(
    *, memories: Sequence[Memory], batch_size: int = 2000, embed: bool = True
) -> list[Memory]:
    """Create many memories in a few queries, indexed lexically at once.

    All or nothing: one invalid row refuses the whole batch. Embeddings follow in
    a background task. Fast enough for 100,000 rows in seconds.
    """
    for position, memory in enumerate(memories):
        _check_bulk_row(memory, position)
    with transaction.atomic():
        created = Memory.objects.bulk_create(memories, batch_size=batch_size)
        _versions_record([memory.pk for memory in created], history_type="+", reason="imported")
        for start in range(0, len(created), batch_size):
            search_index_write(created[start : start + batch_size])
    if len(created) >= ANALYZE_AFTER_ROWS and connection.vendor == "postgresql":
        # Until autovacuum gets to it, PostgreSQL plans searches with the table's old
        # statistics: after 100,000 new rows it chose to compute the full-text vector of
        # every visible memory (0.4 s a search instead of 10 ms, bench_retrieval.py).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Memory._meta.db_table)}")
    if embed and created:
        _embed_later(None)
    return created


def _embed_later(memory_ids: list[int] | None) -> None:
    """Compute embeddings off the request's path (None: every memory lacking one)."""
    if settings.LUMA_EMBEDDING_SOURCE == "none":
        return
    from memories.tasks import memories_embed_task  # the tasks module imports this one

    memories_embed_task.enqueue(memory_ids=memory_ids)


def memories_embed(*, memory_ids: Sequence[int] | None = None, batch_size: int = 64) -> int:
    """Compute and store embeddings; None means every memory without a current one.

    Returns how many were stored. A memory edited meanwhile is skipped: its own
    task embeds the new text.
    """
    embedder = embedder_get()
    if embedder is None:
        return 0
    missing = ~Q(embedding__model=embedder.name)
    if pgvector_in_use():
        # A row whose `vector` column is empty (written around pgvector) is missing too.
        missing |= Q(pk__in=MemoryVector.objects.filter(embedding__isnull=True).values("pk"))
    pending = Memory.objects.filter(missing)
    if memory_ids is not None:
        pending = pending.filter(pk__in=memory_ids)
    stored = 0
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = list(Memory.objects.filter(pk__in=ids[start : start + batch_size]))
        vectors = embedder.embed([memory.content for memory in batch])
        stored += _embeddings_store(batch, vectors, embedder.name)
    return stored


def _embeddings_store(batch: list[Memory], vectors: Any, model: str) -> int:
    """Store the vectors of the memories whose text is still the one embedded."""
    ids = [memory.pk for memory in batch]
    current = dict(Memory.objects.filter(pk__in=ids).values_list("pk", "content"))
    kept = [
        (memory, vector)
        for memory, vector in zip(batch, vectors, strict=True)
        if current.get(memory.pk) == memory.content
    ]
    return memory_embeddings_store(
        memory_ids=[memory.pk for memory, _ in kept],
        vectors=[vector for _, vector in kept],
        model=model,
    )


def memory_embeddings_store(
    *, memory_ids: Sequence[int], vectors: Sequence[Any], model: str
) -> int:
    """Store (or replace) these memories' vectors from `model`; returns how many.

    With pgvector the row's `vector` column is written in the same statement
    (`memories.pg_vectors`), so PostgreSQL's index never lags the embeddings."""
    if pgvector_in_use():
        memory_vectors_store(memory_ids=memory_ids, vectors=vectors, model=model)
        return len(memory_ids)
    MemoryEmbedding.objects.bulk_create(
        [
            MemoryEmbedding(memory_id=memory_id, model=model, vector=vector_to_bytes(vector))
            for memory_id, vector in zip(memory_ids, vectors, strict=True)
        ],
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["memory"],
        update_fields=["model", "vector", "updated_at"],
    )
    return len(memory_ids)


@transaction.atomic
def _review(memory: Memory, *, status: str, reviewer: AbstractBaseUser | None) -> Memory:
    """Move a pending suggestion to `status`, once: a second reviewer loses the race."""
    changed = Memory.objects.filter(pk=memory.pk, status=MemoryStatus.PENDING).update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now(), updated_at=timezone.now()
    )
    if not changed:
        raise SuggestionAlreadyReviewed("This suggestion was already reviewed.")
    memory.refresh_from_db()
    memory._change_reason = status
    Memory.history.bulk_history_create([memory], update=True)
    return memory


@transaction.atomic
def memory_approve(
    *, memory: Memory, reviewer: AbstractBaseUser | None = None, **edits: Any
) -> Memory:
    """Approve a pending suggestion, optionally after editing it.

    A suggestion that revises an existing memory supersedes it: the old memory keeps
    its text as a past fact (`valid_until`), and the approved suggestion, which links
    to it (`supersedes`), is returned.
    """
    if edits:
        memory_update(memory=memory, **edits)
    memory = _review(memory, status=MemoryStatus.APPROVED, reviewer=reviewer)
    if memory.updates_id is None:
        return memory
    old = Memory.objects.select_for_update().filter(pk=memory.updates_id).first()
    if old is not None:
        _supersede(old=_current_successor(old), new=memory)
    return memory


def _current_successor(memory: Memory) -> Memory:
    """The current fact a chain of supersessions starting at `memory` ends in (an
    update suggested before another one was approved revises the newest fact)."""
    seen = {memory.pk}
    while memory.valid_until is not None:
        newer = memory.superseded_by.order_by("-pk").first()
        if newer is None or newer.pk in seen:
            break
        seen.add(newer.pk)
        memory = newer
    return memory


def _supersede(*, old: Memory, new: Memory) -> None:
    """`new` replaces `old` from now on; both are kept, both changes recorded."""
    now = timezone.now()
    if old.pk == new.pk:
        return
    old.valid_until = now
    old._change_reason = "superseded"
    old.save(update_fields=["valid_until", "updated_at"])
    new.supersedes = old
    new._change_reason = "supersedes"
    new.save(update_fields=["supersedes", "updated_at"])


def memory_supersession_undo(*, memory: Memory, reason: str = "current again") -> Memory | None:
    """When `memory` no longer stands (its approval undone), the fact it superseded
    is current again and `memory` no longer links to it (approving it again does);
    returns that fact, or None when there was none to bring back."""
    if memory.supersedes_id is None:
        return None
    with transaction.atomic():
        old = Memory.objects.select_for_update().filter(pk=memory.supersedes_id).first()
        Memory.objects.filter(pk=memory.pk).update(supersedes=None)
        memory.supersedes_id = None
        if old is None or old.valid_until is None:
            return None
        old.valid_until = None
        old._change_reason = reason
        old.save(update_fields=["valid_until", "updated_at"])
    return old


def memory_supersede(
    *,
    memory: Memory,
    content: str,
    importance: int | None = None,
    tags: Iterable[str] | None = None,
    actor: AbstractBaseUser | None = None,
) -> Memory:
    """Record that a fact changed: a new memory with `content` (and the old one's
    importance, tags and subject unless given) supersedes `memory`, which keeps its
    text as a past fact. Returns the new memory.

    Raises `InvalidMemory` (400) for a pending or rejected memory, and
    `SuggestionAlreadyReviewed` (409) when a newer fact already replaced it.
    """
    if memory.status != MemoryStatus.APPROVED:
        raise InvalidMemory("Only an approved memory can be superseded; approve it first.")
    with transaction.atomic():
        old = Memory.objects.select_for_update().get(pk=memory.pk)
        if old.valid_until is not None:
            raise MemoryAlreadySuperseded(
                "A newer fact already replaced this memory; change that one instead."
            )
        new = memory_create(
            content=content,
            importance=old.importance if importance is None else importance,
            tags=old.tags if tags is None else tags,
            subject_user=old.subject_user,
            subject_discord_id=old.subject_discord_id,
            subject_name=old.subject_name,
            created_by=actor,
        )
        _supersede(old=old, new=new)
    return new


def memory_reject(*, memory: Memory, reviewer: AbstractBaseUser | None = None) -> Memory:
    return _review(memory, status=MemoryStatus.REJECTED, reviewer=reviewer)


SUGGESTION_RUNS_KEPT = timedelta(days=30)
ANSWER_KEPT_CHARS = 2000


def suggestion_run_record(
    *,
    reply_message_id: int | None,
    kept: int,
    decided: int,
    skipped: int,
    problems: Sequence[str],
    answer: str,
    withheld: Mapping[str, int] | None = None,
    blocklist: Blocklist | None = None,
) -> SuggestionRun:
    """Record what became of one answer to a suggestion request: `problems` says
    why each dropped part was dropped, and the answer's beginning is kept only when
    something was. `withheld` counts the facts withheld by category (keys of
    `memories.privacy.CATEGORY_LABELS`; ValueError for another). The answer and the
    problems are kept with every secret and blocked word redacted (`privacy_redacted`
    with `blocklist`), so the admin never shows what was withheld. Runs older than 30
    days go."""
    withheld = {name: count for name, count in (withheld or {}).items() if count > 0}
    unknown = set(withheld) - set(CATEGORY_LABELS)
    if unknown:
        raise ValueError(f"Unknown privacy categories: {', '.join(sorted(unknown))}")
    SuggestionRun.objects.filter(created_at__lt=timezone.now() - SUGGESTION_RUNS_KEPT).delete()
    # Redacted a little past what is kept, so that no secret is cut in two before it is found.
    beginning = answer.replace("\x00", "")[: ANSWER_KEPT_CHARS + 500] if problems else ""
    redacted = privacy_redacted(beginning, blocklist=blocklist)
    return SuggestionRun.objects.create(
        reply_message_id=reply_message_id,
        kept=kept,
        dropped=len(problems),
        decided=decided,
        skipped=skipped,
        withheld=sum(withheld.values()),
        withheld_categories=withheld,
        problems=[
            privacy_redacted(problem.replace("\x00", ""), blocklist=blocklist)[:200]
            for problem in problems[:50]
        ],
        answer=redacted[:ANSWER_KEPT_CHARS],
    )


def memories_mark_used(*, memories: Iterable[Memory]) -> None:
    ids = [memory.pk for memory in memories]
    if ids:
        Memory.objects.filter(pk__in=ids).update(
            use_count=F("use_count") + 1, last_used_at=timezone.now()
        )


def memory_subject_for(*, actor: AbstractBaseUser, subject: str) -> dict[str, Any]:
    """The subject fields of `memory_create` for `subject` as written by `actor`: anyone
    may write about themselves ("me"); global and other people's memories need a
    moderator. Raises `InvalidSubject` (400) or `PermissionDenied` (403)."""
    parsed = subject_parse(subject, me=actor)
    if parsed.user_id != actor.pk:
        role_require(actor, Role.MODERATOR, action="add memories about everyone or someone else")
    found = None
    if parsed.user_id is not None:
        found = get_user_model().objects.filter(pk=parsed.user_id).first()
        if found is None:
            raise InvalidMemory(f"subject: no user with id {parsed.user_id}.")
    return {"subject_user": found, "subject_discord_id": parsed.discord_id}


def memory_ensure_editable(*, actor: AbstractBaseUser, memory: Memory) -> None:
    """Moderators and the owner may change any memory; viewers only those about themselves."""
    if role_of(actor) >= Role.MODERATOR or (
        memory.subject_user_id is not None and memory.subject_user_id == actor.pk
    ):
        return
    raise PermissionDenied("You may only change memories about yourself.")
