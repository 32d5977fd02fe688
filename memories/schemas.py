from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field

from luma.schemas import InputSchema
from memories.changes import Surface
from memories.models import IMPORTANCE_MAX, IMPORTANCE_MIN, Memory, MemorySource, MemoryStatus
from memories.privacy import CATEGORY_LABELS
from memories.subjects import NOTATION, PATTERN, subject_of

Content = Field(..., min_length=1, max_length=5000)
Importance = Field(5, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
Tags = Field(default_factory=list, max_length=20)


class MemoryIn(InputSchema):
    content: str = Content
    importance: int = Importance
    tags: list[str] = Tags
    subject: str = Field(
        "me", pattern=PATTERN, description=f'{NOTATION} (anything but "me" needs a moderator).'
    )
    subject_name: str = Field("", max_length=150)


class MemoryChangesIn(InputSchema):
    content: str | None = Field(None, min_length=1, max_length=5000)
    importance: int | None = Field(None, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
    tags: list[str] | None = Field(None, max_length=20)


class MemoryUpdateIn(MemoryChangesIn):
    supersede: bool = Field(
        False,
        description="The fact changed (rather than was wrong): keep this memory as a past "
        "fact and store `content` as a new memory that supersedes it (returned, with a new "
        "id). Needs `content`.",
    )


class SuggestionApproveIn(MemoryChangesIn):
    id: int


class MemoryOut(Schema):
    id: int
    content: str
    source: MemorySource
    status: MemoryStatus
    importance: int
    tags: list[str]
    subject: str
    subject_name: str
    subject_label: str = Field(
        description='Whom it is about, in words: "everyone", the name it was given, the '
        'account\'s username, or "Discord user <id>".'
    )
    updates_id: int | None
    updates_text: str | None = Field(
        description="For a suggestion that revises a fact: that fact's text."
    )
    supersedes_id: int | None = Field(description="The older fact this one replaced.")
    was: str | None = Field(description="The text of the fact this one replaced.")
    valid_until: datetime | None = Field(
        description="When a newer fact replaced this one; null while it is current."
    )
    use_count: int
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime
    confidence: float | None = Field(
        None, description="How sure the model was of an AI suggestion (0-1); null when unsaid."
    )
    auto_approved_at: datetime | None = Field(
        None,
        description="When auto-approval approved it on arrival; null once a person kept it, "
        "and for every memory a person decided.",
    )

    @staticmethod
    def resolve_subject(memory: Memory) -> str:
        return subject_of(memory).notation

    @staticmethod
    def resolve_was(memory: Memory) -> str | None:
        return memory.supersedes.content if memory.supersedes_id else None

    @staticmethod
    def resolve_subject_label(memory: Memory) -> str:
        return memory.subject_label

    @staticmethod
    def resolve_updates_text(memory: Memory) -> str | None:
        return memory.updates.content if memory.updates_id else None

    @staticmethod
    def resolve_auto_approved_at(memory: Memory) -> datetime | None:
        """Only while no person has looked at it (whoever did is its reviewer)."""
        return memory.auto_approved_at if memory.reviewed_by_id is None else None


class ScoredMemoryOut(Schema):
    memory: MemoryOut
    score: float
    lexical_rank: int | None
    similarity: float | None


class SearchOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[ScoredMemoryOut]


class SearchFiltersIn(InputSchema):
    q: str = Field("", max_length=1000)
    source: MemorySource | None = None
    status: Literal["approved", "pending", "rejected"] | None = None
    tags: list[str] = Field(default_factory=list)
    subject: str | None = Field(None, pattern=PATTERN, description=NOTATION)
    importance_min: int | None = Field(None, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
    importance_max: int | None = Field(None, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
    current: bool | None = Field(
        None, description="true: current facts only; false: superseded (past) facts only."
    )
    auto_approved: bool | None = Field(
        None,
        description="true: only memories auto-approval approved that no person kept since "
        "(listed for a later look); false: none of them.",
    )
    offset: int = Field(0, ge=0, le=10_000)
    limit: int = Field(20, ge=1, le=100)


class WithheldCategoryOut(Schema):
    category: str = Field(
        description="api_key, password, email, phone, address, "
        "payment_card, bank_account, national_id or blocklist."
    )
    label: str = Field(description='The kind in words, e.g. "phone number".')
    count: int


class SuggestionRunsOut(Schema):
    """What became of the AI's suggestions over the last `days` days."""

    days: int
    runs: int
    kept: int
    dropped: int = Field(description="Parts of the model's answers that could not be understood.")
    decided: int = Field(
        description="Facts not proposed again: a person rejected them, or approved them "
        "in other words."
    )
    skipped: int = Field(description="Below the importance threshold, or already known.")
    withheld: int = Field(
        description="Facts never proposed: they held a secret, personal data or a word of "
        "the owner's blocklist."
    )
    withheld_categories: list[WithheldCategoryOut] = Field(
        description="How many were withheld for each kind, most first (never the facts)."
    )
    review_url: str = Field(description="The admin's list of the runs that dropped something.")

    @staticmethod
    def resolve_withheld_categories(totals: dict) -> list[dict]:
        return [
            {"category": name, "label": CATEGORY_LABELS.get(name, name), "count": count}
            for name, count in totals["withheld_categories"].items()
        ]


class MemoryFieldsOut(Schema):
    """A memory's fields as one version had them."""

    content: str
    importance: int
    tags: list[str]
    status: MemoryStatus
    source: MemorySource
    subject: str
    subject_name: str
    updates_id: int | None
    supersedes_id: int | None
    valid_until: datetime | None

    @staticmethod
    def resolve_subject(record: Any) -> str:
        return subject_of(record).notation


class MemoryVersionOut(Schema):
    version: int = Field(description="Pass it to POST /api/memory/{id}/restore.")
    number: int = Field(
        description="Its place in this memory's history, 1 for the first: what people read "
        "(the version id counts every memory's versions together)."
    )
    at: datetime
    who: str | None = Field(description="The account's username, or a Discord member's name.")
    surface: Surface
    action: str = Field(
        description="created, suggested, edited, approved, rejected, superseded, supersedes, "
        "deleted, imported, made global, back to pending, restored version N (its number), ..."
    )
    changed: list[str] = Field(description="The fields that differ from the version before.")
    fields: MemoryFieldsOut


class MemoryRestoreIn(InputSchema):
    version: int | None = Field(
        None,
        ge=1,
        description="The version to restore (from the history). Without it: a deleted memory "
        "comes back as it was deleted, a rejected suggestion goes back to pending.",
    )


class DeletedMemoryOut(Schema):
    id: int
    version: int = Field(description="The version recorded when it was deleted.")
    deleted_at: datetime
    who: str | None
    surface: Surface
    restorable_until: datetime
    fields: MemoryFieldsOut


class SuggestionOut(MemoryOut):
    group_id: int = Field(
        description="The first suggestion of its group of near-duplicates (the same thing "
        "about the same person); its own id when it stands alone. Members follow it."
    )


MemoryId = Annotated[int, Field(ge=1, le=2**63 - 1)]
ReviewIds = Field(..., min_length=1, max_length=200, description="Memory ids, each once.")


class DuplicatesIn(InputSchema):
    of: MemoryId = Field(description="One of the review's `ids`.")
    ids: list[MemoryId] = Field(
        ..., min_length=1, max_length=199, description="Suggestions saying the same thing."
    )


class SuggestionReviewIn(InputSchema):
    """Decide many suggestions at once, all or nothing."""

    ids: list[MemoryId] = ReviewIds
    decision: Literal["approve", "reject"]
    duplicates: list[DuplicatesIn] = Field(
        default_factory=list,
        max_length=200,
        description="Groups of near-duplicates: the suggestions `ids` that say the same thing "
        "as `of`. Approving, they are rejected as its duplicates; rejecting, rejected too.",
    )
    content: str | None = Field(
        None, min_length=1, max_length=5000, description="Edits, with the approval of one id."
    )
    importance: int | None = Field(None, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
    tags: list[str] | None = Field(None, max_length=20)


class SuggestionReviewOut(Schema):
    decision: Literal["approve", "reject"]
    approved: list[MemoryOut]
    rejected: list[MemoryOut]
    undo_ids: list[int] = Field(description="Pass to POST /api/memory/suggestions/undo.")
    pending_count: int = Field(description="Suggestions still waiting for you.")


class SuggestionUndoIn(InputSchema):
    ids: list[MemoryId] = ReviewIds


class SuggestionUndoOut(Schema):
    items: list[MemoryOut] = Field(description="The suggestions, pending again.")
    pending_count: int


class PendingCountOut(Schema):
    pending: int = Field(description="Suggestions waiting for your review.")


class AutoApprovalDayOut(Schema):
    day: date = Field(description="A day in Luma's time zone (TIME_ZONE).")
    count: int = Field(description="Memories auto-approved that day that no person kept yet.")


def _iso_date_text(value: Any) -> Any:
    """A day as ISO text ("2026-11-30") only: not a number of seconds since 1970."""
    if not isinstance(value, str | date):
        raise ValueError("Give the day as YYYY-MM-DD.")
    return value


class AutoApprovalUndoIn(InputSchema):
    day: Annotated[date, BeforeValidator(_iso_date_text)] = Field(
        description="YYYY-MM-DD, in Luma's time zone."
    )


class AutoApprovalUndoOut(Schema):
    day: date
    items: list[MemoryOut] = Field(description="The memories sent back to pending.")
    pending_count: int
