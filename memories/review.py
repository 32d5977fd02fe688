"""Review at volume: many suggestions decided at once, decisions undone, near-duplicate
suggestions grouped under one decision, and auto-approval with its undo.

Every decision here is all or nothing: one suggestion the reviewer may not decide,
or one decided meanwhile by someone else, refuses the whole request and changes
nothing. Every change is a version in the memory's history (`Memory.history`),
with its reason ("rejected: duplicate of 12", "decision undone", "auto-approved").

Who may: the people who may review a suggestion one by one (moderators and the
owner: all; a viewer: those about themself); anyone else is told the suggestion
does not exist. Undoing a whole day's auto-approvals needs a moderator.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from luma.errors import LumaError, NotFound
from luma.roles import Role, role_require
from memories.dedupe import says_the_same
from memories.embeddings import embedder_get, similarity_scaled, vector_from_bytes
from memories.history import memory_back_to_pending
from memories.models import Memory, MemoryEmbedding, MemorySource, MemoryStatus
from memories.selectors import memories_readable_by
from memories.services import InvalidMemory, memory_approve, memory_supersession_undo

logger = logging.getLogger(__name__)

Decision = Literal["approve", "reject"]
REVIEW_MAX_IDS = 200
# The history's reason on a fact made current again by taking back an approval.
_UNDONE = "current again: approval of {} undone"
AUTO_APPROVAL_DAYS_LISTED = 30


# Approved by auto-approval, and looked at by no person since (whoever approves or keeps
# it is its reviewer).
UNSEEN_AUTO_APPROVAL = Q(
    status=MemoryStatus.APPROVED, auto_approved_at__isnull=False, reviewed_by__isnull=True
)


class ReviewRefused(LumaError):
    """Some of the suggestions asked for cannot be decided (or undone) by this person
    now; nothing was changed. `context` names them by reason."""

    status_code = 409


def _ids_text(ids: Iterable[int]) -> str:
    return ", ".join(str(pk) for pk in sorted(ids))


def _awaiting(queryset: QuerySet[Memory]) -> QuerySet[Memory]:
    """What waits for a person: pending suggestions, and auto-approved memories no
    person looked at yet."""
    return queryset.filter(Q(status=MemoryStatus.PENDING) | UNSEEN_AUTO_APPROVAL)


def _targets(user: AbstractBaseUser, ids: Sequence[int], *, lock: bool = True) -> list[Memory]:
    """The memories `ids` in that order, each one `user` may review; `NotFound` (404)
    naming the ids that do not exist or are not theirs (a viewer learns nothing of
    other people's suggestions)."""
    queryset = memories_readable_by(user=user).filter(pk__in=ids)
    if lock:
        queryset = queryset.select_for_update()
    found = {memory.pk: memory for memory in queryset}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotFound(
            f"No suggestion {_ids_text(missing)} for you to review; nothing was decided.",
            context={"not_found": sorted(missing)},
        )
    return [found[pk] for pk in ids]


def auto_approved_filter(
    queryset: QuerySet[Memory], *, auto_approved: bool | None
) -> QuerySet[Memory]:
    """True: only the auto-approved memories no person kept yet; False: none of them;
    None: the queryset as it is."""
    if auto_approved is None:
        return queryset
    marked = UNSEEN_AUTO_APPROVAL
    return queryset.filter(marked) if auto_approved else queryset.exclude(marked)


def pending_count_for(*, user: AbstractBaseUser) -> int:
    """How many suggestions wait for `user`'s review (the navigation's badge)."""
    return memories_readable_by(user=user).filter(status=MemoryStatus.PENDING).count()


# ---- deciding ---------------------------------------------------------------------


@dataclass
class ReviewOutcome:
    """What one review request did: `approved` and `rejected` memories (as they are
    now), and the ids to pass to `suggestions_undo` to take it all back."""

    decision: Decision
    approved: list[Memory] = field(default_factory=list)
    rejected: list[Memory] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [memory.pk for memory in [*self.approved, *self.rejected]]


def _decided(memory: Memory, **changes: Any) -> Memory:
    """Write `changes` to a memory that is still what it was read as, with its
    version; `ReviewRefused` when someone decided it meanwhile (the transaction
    around it rolls every other decision back)."""
    reason = changes.pop("reason")
    still = Q(status=MemoryStatus.PENDING) | UNSEEN_AUTO_APPROVAL
    if not Memory.objects.filter(still, pk=memory.pk, status=memory.status).update(
        **changes, updated_at=timezone.now()
    ):
        raise ReviewRefused(f"Suggestion {memory.pk} was decided meanwhile; nothing was decided.")
    memory.refresh_from_db()
    memory._change_reason = reason  # what the history records, over any reason left on it
    Memory.history.bulk_history_create([memory], update=True)
    return memory


def _rejected(memory: Memory, reviewer: AbstractBaseUser, reason: str) -> Memory:
    if memory.status == MemoryStatus.APPROVED:  # auto-approved: its approval goes first
        memory_supersession_undo(memory=memory, reason=_UNDONE.format(memory.pk))
    return _decided(
        memory,
        status=MemoryStatus.REJECTED,
        auto_approved_at=None,
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
        reason=reason,
    )


def _approved(memory: Memory, reviewer: AbstractBaseUser, edits: dict[str, Any]) -> Memory:
    if memory.status == MemoryStatus.PENDING:
        return memory_approve(memory=memory, reviewer=reviewer, **edits)
    if edits:
        raise InvalidMemory(f"Memory {memory.pk} is approved already: edit it instead.")
    return _decided(  # an auto-approval a person now keeps
        memory,
        auto_approved_at=None,
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
        reason="kept after auto-approval",
    )


def _check_request(
    ids: Sequence[int], decision: str, duplicates: dict[int, list[int]], edits: dict
) -> list[int]:
    """Every id the request decides (`ids`, then the duplicates), once each;
    `InvalidMemory` (400) for a malformed request."""
    everyone = [*ids, *(pk for members in duplicates.values() for pk in members)]
    if not ids or len(everyone) > REVIEW_MAX_IDS:
        raise InvalidMemory(f"ids: give 1 to {REVIEW_MAX_IDS} suggestion ids in all.")
    if len(set(everyone)) != len(everyone):
        raise InvalidMemory("ids: each suggestion once (in ids or among the duplicates).")
    if decision not in ("approve", "reject"):
        raise InvalidMemory('decision: "approve" or "reject".')
    if set(duplicates) - set(ids):
        raise InvalidMemory("duplicates: each key is one of the ids.")
    if edits and (decision != "approve" or len(ids) != 1):
        raise InvalidMemory("Edits go with the approval of one suggestion.")
    return everyone


@transaction.atomic
def suggestions_review(
    *,
    user: AbstractBaseUser,
    ids: Sequence[int],
    decision: Decision,
    duplicates: dict[int, list[int]] | None = None,
    **edits: Any,
) -> ReviewOutcome:
    """Approve or reject the suggestions `ids` (in that order), all or nothing.

    `duplicates` maps some of the ids to suggestions that say the same thing (a group
    of near-duplicates, `suggestion_groups`): approving, those are rejected as
    duplicates of the one approved; rejecting, they are rejected too. `edits`
    (content, importance, tags) go with the approval of a single id. An auto-approved
    memory no person kept yet may be decided too: approving keeps it (no longer
    marked auto-approved), rejecting takes its approval back first. Raises
    `InvalidMemory` (400: a malformed request), `NotFound` (404: ids that are not the
    user's to review) and `ReviewRefused` (409: ids already decided, or decided
    meanwhile).
    """
    duplicates = duplicates or {}
    edits = {name: value for name, value in edits.items() if value is not None}
    everyone = _check_request(ids, decision, duplicates, edits)
    targets = {memory.pk: memory for memory in _targets(user, everyone)}
    waiting = {memory.pk for memory in _awaiting(Memory.objects.filter(pk__in=everyone))}
    decided = [pk for pk in everyone if pk not in waiting]
    if decided:
        raise ReviewRefused(
            f"Suggestion {_ids_text(decided)} was already reviewed; nothing was decided.",
            context={"already_reviewed": sorted(decided)},
        )
    outcome = ReviewOutcome(decision=decision)
    for pk in ids:
        if decision == "approve":
            outcome.approved.append(_approved(targets[pk], user, edits))
        else:
            outcome.rejected.append(_rejected(targets[pk], user, "rejected"))
        for member in duplicates.get(pk, []):
            reason = f"rejected: duplicate of {pk}" if decision == "approve" else "rejected"
            outcome.rejected.append(_rejected(targets[member], user, reason))
    return outcome


# ---- undoing ------------------------------------------------------------------------


def _undoable(memory: Memory) -> str:
    """Why `memory` cannot go back to pending, or "" when it can."""
    if memory.source != MemorySource.AI_SUGGESTED:
        return "not an AI suggestion"
    if memory.valid_until is not None:
        return "a newer fact replaced it since"
    return ""


def _back_to_pending(memory: Memory, reason: str) -> Memory:
    if memory.status == MemoryStatus.PENDING:
        return memory
    if memory.status == MemoryStatus.APPROVED:
        memory_supersession_undo(memory=memory, reason=_UNDONE.format(memory.pk))
    Memory.objects.filter(pk=memory.pk).update(auto_approved_at=None)
    return memory_back_to_pending(memory=memory, reason=reason)


@transaction.atomic
def suggestions_undo(*, user: AbstractBaseUser, ids: Sequence[int]) -> list[Memory]:
    """Put decided suggestions back to pending, all or nothing, and return them.

    An approval is taken back whole: a fact it superseded is current again. The
    suggestion comes back as it last was while pending (with any edit made before
    approving it); one already pending stays as it is. Raises `InvalidMemory` (400),
    `NotFound` (404: not the user's) and `ReviewRefused` (409: a memory a person
    wrote, or a fact a newer one replaced since)."""
    if not ids or len(ids) > REVIEW_MAX_IDS or len(set(ids)) != len(ids):
        raise InvalidMemory(f"ids: give 1 to {REVIEW_MAX_IDS} different memory ids.")
    targets = _targets(user, ids)
    refused = {memory.pk: why for memory in targets if (why := _undoable(memory))}
    if refused:
        reasons = "; ".join(f"{pk}: {why}" for pk, why in sorted(refused.items()))
        raise ReviewRefused(
            f"Cannot go back to pending: {reasons}. Nothing was undone.",
            context={"refused": sorted(refused)},
        )
    return [_back_to_pending(memory, "decision undone") for memory in targets]


# ---- near-duplicates ------------------------------------------------------------------


def _similarities(memories: list[Memory]) -> np.ndarray | None:
    """The memories' cosine similarities to each other on MiniLM's scale
    (`similarity_scaled`), from their stored vectors or ones embedded now; None
    without an embedder."""
    try:
        embedder = embedder_get()
        if embedder is None:
            return None
        stored = dict(
            MemoryEmbedding.objects.filter(memory__in=memories, model=embedder.name).values_list(
                "memory_id", "vector"
            )
        )
        missing = [memory for memory in memories if memory.pk not in stored]
        fresh = embedder.embed([memory.content for memory in missing]) if missing else []
    except LumaError as error:
        logger.warning("No embeddings for grouping suggestions, words only: %s", error.message)
        return None
    computed = dict(zip([memory.pk for memory in missing], fresh, strict=True))
    rows = [
        vector_from_bytes(stored[memory.pk]) if memory.pk in stored else computed[memory.pk]
        for memory in memories
    ]
    matrix = np.asarray(rows, dtype=np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return similarity_scaled(matrix @ matrix.T, embedder)


def suggestion_groups(memories: Sequence[Memory]) -> dict[int, int]:
    """Each memory's group: the id of the first memory (in the order given) that says
    the same thing about the same person, itself when none does."""
    similarities = _similarities(list(memories)) if len(memories) > 1 else None
    lead = {memory.pk: memory.pk for memory in memories}
    for j, later in enumerate(memories):
        for i in range(j):
            earlier = memories[i]
            if lead[earlier.pk] != earlier.pk or not _same_subject(earlier, later):
                continue
            similarity = float(similarities[i, j]) if similarities is not None else 0.0
            if says_the_same(earlier.content, later.content, similarity):
                lead[later.pk] = earlier.pk
                break
    return lead


def _same_subject(first: Memory, second: Memory) -> bool:
    return (first.subject_user_id, first.subject_discord_id) == (
        second.subject_user_id,
        second.subject_discord_id,
    )


def suggestions_grouped(memories: Sequence[Memory]) -> list[Memory]:
    """The suggestions with `group_id` set on each (see `suggestion_groups`), each
    group's members right after its first one."""
    lead = suggestion_groups(memories)
    for memory in memories:
        memory.group_id = lead[memory.pk]
    order = {memory.pk: position for position, memory in enumerate(memories)}
    return sorted(memories, key=lambda memory: (order[memory.group_id], order[memory.pk]))


# ---- auto-approval ----------------------------------------------------------------------


def auto_approval_applies(*, memory: Memory, source: str, settings: Any) -> bool:
    """Whether the runtime `settings` approve this new suggestion on arrival: the switch
    is on, its conversation took place in one of the chosen sources (`web`,
    `discord`), and it reaches both the importance and the confidence bar (a
    suggestion without a confidence never does). A fact about everyone and an update
    to a known fact always wait for a person: one viewer's chat must not change what
    the persona tells the whole community, or overwrite what it knew."""
    return bool(
        settings.auto_approve_enabled
        and memory.status == MemoryStatus.PENDING
        and memory.updates_id is None
        and not memory.is_global
        and source in (settings.auto_approve_sources or [])
        and memory.importance >= settings.auto_approve_min_importance
        and memory.confidence is not None
        and memory.confidence >= settings.auto_approve_min_confidence
    )


def suggestion_auto_approve(*, memory: Memory, source: str, settings: Any) -> bool:
    """Approve a suggestion that just arrived when auto-approval applies to it (see
    `auto_approval_applies`), marked auto-approved; returns whether it was."""
    if not auto_approval_applies(memory=memory, source=source, settings=settings):
        return False
    now = timezone.now()
    with transaction.atomic():
        if not Memory.objects.filter(pk=memory.pk, status=MemoryStatus.PENDING).update(
            status=MemoryStatus.APPROVED, auto_approved_at=now, reviewed_at=now, updated_at=now
        ):
            return False
        memory.refresh_from_db()
        memory._change_reason = "auto-approved"
        Memory.history.bulk_history_create([memory], update=True)
    return True


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day from midnight to midnight in Luma's time zone (`TIME_ZONE`)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class AutoApprovalDay:
    day: date
    count: int


def auto_approval_days(*, user: AbstractBaseUser) -> list[AutoApprovalDay]:
    """The days of the last 30 with auto-approved memories no person looked at yet
    (those `user` may see), newest first, with how many each."""
    since = timezone.now() - timedelta(days=AUTO_APPROVAL_DAYS_LISTED)
    rows = (
        memories_readable_by(user=user)
        .filter(UNSEEN_AUTO_APPROVAL, auto_approved_at__gte=since)
        .annotate(day=TruncDate("auto_approved_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by("-day")
    )
    return [AutoApprovalDay(day=row["day"], count=row["count"]) for row in rows]


@transaction.atomic
def auto_approvals_undo_day(*, user: AbstractBaseUser, day: date) -> list[Memory]:
    """Send every memory auto-approved on `day` (Luma's time zone) that no person kept
    since back to pending, for a person to review; returns them. A fact one of them
    superseded is current again. Needs a moderator (`PermissionDenied`, 403)."""
    role_require(user, Role.MODERATOR, action="undo a day's auto-approvals")
    start, end = _day_bounds(day)
    found = (
        Memory.objects.select_for_update()
        .filter(UNSEEN_AUTO_APPROVAL, auto_approved_at__gte=start)
        .filter(auto_approved_at__lt=end, valid_until__isnull=True)
        .order_by("pk")
    )
    return [_back_to_pending(memory, "auto-approval undone") for memory in found]
