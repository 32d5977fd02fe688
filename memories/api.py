"""The memory API: CRUD, ranked search, and the review of AI suggestions."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from luma.errors import NotFound
from luma.roles import Role, role_required
from memories.history import (
    DeletedMemory,
    MemoryVersion,
    memories_deleted,
    memory_restore,
    memory_versions,
)
from memories.models import Memory, SuggestionRun
from memories.review import (
    AutoApprovalDay,
    auto_approval_days,
    auto_approvals_undo_day,
    auto_approved_filter,
    pending_count_for,
    suggestions_grouped,
    suggestions_review,
    suggestions_undo,
)
from memories.schemas import (
    AutoApprovalDayOut,
    AutoApprovalUndoIn,
    AutoApprovalUndoOut,
    DeletedMemoryOut,
    MemoryIn,
    MemoryOut,
    MemoryRestoreIn,
    MemoryUpdateIn,
    MemoryVersionOut,
    PendingCountOut,
    SearchFiltersIn,
    SearchOut,
    SuggestionApproveIn,
    SuggestionOut,
    SuggestionReviewIn,
    SuggestionReviewOut,
    SuggestionRunsOut,
    SuggestionUndoIn,
    SuggestionUndoOut,
)
from memories.selectors import (
    MemoryFilters,
    memories_readable_by,
    memory_search,
    memory_suggestions_pending,
)
from memories.services import (
    InvalidMemory,
    memory_approve,
    memory_create,
    memory_delete,
    memory_ensure_editable,
    memory_reject,
    memory_subject_for,
    memory_supersede,
    memory_update,
)
from memories.subjects import subject_parse

router = Router()


def _readable(request: HttpRequest, memory_id: int) -> Memory:
    memory = memories_readable_by(user=request.user).filter(pk=memory_id).first()
    if memory is None:
        raise NotFound(f"Memory {memory_id} does not exist.")
    return memory


def _editable(request: HttpRequest, memory_id: int) -> Memory:
    memory = _readable(request, memory_id)
    memory_ensure_editable(actor=request.user, memory=memory)
    return memory


@router.get(
    "/search",
    response=SearchOut,
    summary="Search memories, ranked",
    description="Hybrid ranking (full-text and embeddings, weighted by importance and "
    "recency) with its score; without `q`, the most important first. `subject` is "
    "`me`, `everyone`, `user:<id>` or `discord:<id>`; `tags` may repeat (all must match).",
)
def memory_search_api(request: HttpRequest, filters: Query[SearchFiltersIn]) -> dict:
    count, items = memory_search(
        queryset=auto_approved_filter(
            memories_readable_by(user=request.user), auto_approved=filters.auto_approved
        ),
        query=filters.q,
        filters=MemoryFilters(
            source=filters.source,
            status=filters.status,
            tags=tuple(filters.tags),
            subject=subject_parse(filters.subject, me=request.user) if filters.subject else None,
            importance_min=filters.importance_min,
            importance_max=filters.importance_max,
            current=filters.current,
        ),
        offset=filters.offset,
        limit=filters.limit,
    )
    return {"count": count, "offset": filters.offset, "limit": filters.limit, "items": items}


@router.get(
    "/suggestions",
    response=list[SuggestionOut],
    summary="Pending suggestions, newest first, near-duplicates grouped",
    description="Moderators and the owner see every suggestion; a viewer those about "
    "themself (which they may approve or reject too). At most 200. Suggestions saying "
    "the same thing about the same person share a `group_id` (the first one's id) and "
    "follow it; decide a group with POST /api/memory/suggestions/review and `keep`.",
)
def memory_suggestions_api(request: HttpRequest) -> list[Memory]:
    readable = memories_readable_by(user=request.user)
    return suggestions_grouped(list(memory_suggestions_pending(queryset=readable)[:200]))


@router.get(
    "/suggestions/count",
    response=PendingCountOut,
    summary="How many suggestions wait for your review",
)
def suggestions_count_api(request: HttpRequest) -> dict:
    return {"pending": pending_count_for(user=request.user)}


@router.post(
    "/suggestions/review",
    response=SuggestionReviewOut,
    summary="Approve or reject many suggestions at once",
    description="All or nothing: 404 names the ids that are not yours to review, 409 those "
    "already decided, and nothing changes. With `keep`, approving a group of "
    "near-duplicates approves that one (with the optional edits) and rejects the others as "
    "its duplicates. An auto-approved memory no person kept yet may be decided too. "
    "Take it back with POST /api/memory/suggestions/undo and `undo_ids`.",
)
def suggestions_review_api(request: HttpRequest, payload: SuggestionReviewIn) -> dict:
    duplicates = {group.of: group.ids for group in payload.duplicates}
    if len(duplicates) != len(payload.duplicates):
        raise InvalidMemory("duplicates: one group for each id.")
    outcome = suggestions_review(
        user=request.user, **payload.dict(exclude={"duplicates"}), duplicates=duplicates
    )
    return {
        "decision": outcome.decision,
        "approved": outcome.approved,
        "rejected": outcome.rejected,
        "undo_ids": outcome.ids,
        "pending_count": pending_count_for(user=request.user),
    }


@router.post(
    "/suggestions/undo",
    response=SuggestionUndoOut,
    summary="Undo decisions: suggestions back to pending",
    description="All or nothing. An approval is taken back whole (a fact it superseded is "
    "current again, an auto-approval is unmarked); a rejection too. 404 names ids that are "
    "not yours; 409 a memory a person wrote or a fact a newer one replaced since.",
)
def suggestions_undo_api(request: HttpRequest, payload: SuggestionUndoIn) -> dict:
    items = suggestions_undo(user=request.user, ids=payload.ids)
    return {"items": items, "pending_count": pending_count_for(user=request.user)}


@router.get(
    "/auto-approved",
    response=list[AutoApprovalDayOut],
    summary="Days with auto-approved memories waiting for a look",
    description="The last 30 days, newest first, with how many memories auto-approval "
    "approved that no person kept since (a viewer: those about themself). List them with "
    "GET /api/memory/search?auto_approved=true.",
)
def auto_approval_days_api(request: HttpRequest) -> list[AutoApprovalDay]:
    return auto_approval_days(user=request.user)


@router.post(
    "/auto-approved/undo",
    response=AutoApprovalUndoOut,
    summary="Undo a whole day's auto-approvals",
    description="Moderators and the owner: every memory auto-approved on `day` (Luma's "
    "time zone) that no person kept goes back to pending, recorded in its history.",
)
def auto_approvals_undo_api(request: HttpRequest, payload: AutoApprovalUndoIn) -> dict:
    items = auto_approvals_undo_day(user=request.user, day=payload.day)
    return {
        "day": payload.day,
        "items": items,
        "pending_count": pending_count_for(user=request.user),
    }


@router.get(
    "/suggestions/runs",
    response=SuggestionRunsOut,
    summary="What became of the AI's suggestions lately",
    description="Moderators and the owner: over the last `days` days (1-30), how many "
    "facts the model proposed were kept, skipped, already decided, or could not be "
    "understood, with the admin page that shows the answers.",
)
@role_required(Role.MODERATOR, action="see what became of the AI's suggestions")
def suggestion_runs_api(request: HttpRequest, days: int = Query(7, ge=1, le=30)) -> dict:
    review_url = reverse("admin:memories_suggestionrun_changelist") + "?understood=no"
    totals = SuggestionRun.objects.since(days=days).totals()
    return {"days": days, **totals, "review_url": review_url}


@router.post(
    "/suggest",
    response=MemoryOut,
    summary="Approve a suggestion, optionally with edits",
    description="A suggestion that updates an existing memory supersedes it: the old one "
    "is kept as a past fact (`valid_until`), and the approved suggestion (with "
    "`supersedes_id` and `was`) is returned.",
)
def memory_suggestion_approve_api(request: HttpRequest, payload: SuggestionApproveIn) -> Memory:
    memory = _editable(request, payload.id)
    edits = payload.dict(exclude={"id"}, exclude_none=True)
    return memory_approve(memory=memory, reviewer=request.user, **edits)


@router.post("/{int:memory_id}/reject", response=MemoryOut, summary="Reject a suggestion")
def memory_reject_api(request: HttpRequest, memory_id: int) -> Memory:
    return memory_reject(memory=_editable(request, memory_id), reviewer=request.user)


@router.post("", response={201: MemoryOut}, summary="Add a memory (approved at once)")
def memory_create_api(request: HttpRequest, payload: MemoryIn) -> Status:
    memory = memory_create(
        content=payload.content,
        importance=payload.importance,
        tags=payload.tags,
        subject_name=payload.subject_name,
        created_by=request.user,
        **memory_subject_for(actor=request.user, subject=payload.subject),
    )
    return Status(201, memory)


@router.get("/{int:memory_id}", response=MemoryOut, summary="One memory")
def memory_get_api(request: HttpRequest, memory_id: int) -> Memory:
    return _readable(request, memory_id)


@router.put(
    "/{int:memory_id}",
    response=MemoryOut,
    summary="Change a memory",
    description="Corrects the memory in place; with `supersede: true` the fact changed "
    "instead: the memory is kept as a past fact and the new memory that supersedes it is "
    "returned. Every change is a version in `GET /api/memory/{id}/history`.",
)
def memory_update_api(request: HttpRequest, memory_id: int, payload: MemoryUpdateIn) -> Memory:
    memory = _editable(request, memory_id)
    changes = payload.dict(exclude_none=True, exclude={"supersede"})
    if not payload.supersede:
        return memory_update(memory=memory, **changes)
    if "content" not in changes:
        raise InvalidMemory("content: say what is true now to supersede a memory.")
    return memory_supersede(memory=memory, actor=request.user, **changes)


@router.get(
    "/deleted",
    response=list[DeletedMemoryOut],
    summary="Memories deleted in the last 30 days",
    description="Newest first (at most 200), as each was when deleted; restore one with "
    "`POST /api/memory/{id}/restore`. Moderators and the owner see all; a viewer those "
    "about themself.",
)
def memories_deleted_api(request: HttpRequest) -> list[DeletedMemory]:
    return memories_deleted(user=request.user)


@router.get(
    "/{int:memory_id}/history",
    response=list[MemoryVersionOut],
    summary="A memory's versions, newest first",
    description="Each change (created, edited, approved, rejected, superseded, deleted, "
    "restored) with who made it, when, through which surface (web, api, admin, discord, "
    "import, ai) and the fields as they were then. Also for a memory deleted in the last "
    "30 days. Whoever may edit the memory may see it.",
)
def memory_history_api(request: HttpRequest, memory_id: int) -> list[MemoryVersion]:
    return memory_versions(user=request.user, memory_id=memory_id)


@router.post(
    "/{int:memory_id}/restore",
    response=MemoryOut,
    summary="Restore an earlier version, a deleted memory, or a rejected suggestion",
    description="`version` from the history brings back that version's text, importance, "
    "tags and status (recorded as a new version). Without it, a memory deleted in the "
    "last 30 days comes back as it was, and a rejected suggestion goes back to pending.",
)
def memory_restore_api(request: HttpRequest, memory_id: int, payload: MemoryRestoreIn) -> Memory:
    return memory_restore(user=request.user, memory_id=memory_id, version=payload.version)


@router.delete("/{int:memory_id}", response={204: None}, summary="Delete a memory")
def memory_delete_api(request: HttpRequest, memory_id: int) -> Status:
    memory_delete(memory=_editable(request, memory_id))
    return Status(204, None)
