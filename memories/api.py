"""The memory API: CRUD, ranked search, and the review of AI suggestions."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from luma.errors import NotFound
from luma.roles import Role, role_required
from memories.models import Memory, SuggestionRun
from memories.schemas import (
    MemoryIn,
    MemoryOut,
    MemoryUpdateIn,
    SearchFiltersIn,
    SearchOut,
    SuggestionApproveIn,
    SuggestionRunsOut,
)
from memories.selectors import (
    MemoryFilters,
    memories_readable_by,
    memory_search,
    memory_suggestions_pending,
)
from memories.services import (
    memory_approve,
    memory_create,
    memory_delete,
    memory_ensure_editable,
    memory_reject,
    memory_subject_for,
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
        queryset=memories_readable_by(user=request.user),
        query=filters.q,
        filters=MemoryFilters(
            source=filters.source,
            status=filters.status,
            tags=tuple(filters.tags),
            subject=subject_parse(filters.subject, me=request.user) if filters.subject else None,
            importance_min=filters.importance_min,
            importance_max=filters.importance_max,
        ),
        offset=filters.offset,
        limit=filters.limit,
    )
    return {"count": count, "offset": filters.offset, "limit": filters.limit, "items": items}


@router.get(
    "/suggestions",
    response=list[MemoryOut],
    summary="Pending suggestions, newest first",
    description="Moderators and the owner see every suggestion; a viewer those about "
    "themself (which they may approve or reject too).",
)
def memory_suggestions_api(request: HttpRequest) -> list[Memory]:
    readable = memories_readable_by(user=request.user)
    return list(memory_suggestions_pending(queryset=readable)[:200])


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
    description="A suggestion that updates an existing memory is folded into it; the "
    "updated memory is returned.",
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


@router.put("/{int:memory_id}", response=MemoryOut, summary="Change a memory")
def memory_update_api(request: HttpRequest, memory_id: int, payload: MemoryUpdateIn) -> Memory:
    memory = _editable(request, memory_id)
    return memory_update(memory=memory, **payload.dict(exclude_none=True))


@router.delete("/{int:memory_id}", response={204: None}, summary="Delete a memory")
def memory_delete_api(request: HttpRequest, memory_id: int) -> Status:
    memory_delete(memory=_editable(request, memory_id))
    return Status(204, None)
