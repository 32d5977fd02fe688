from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from luma.schemas import InputSchema
from memories.models import IMPORTANCE_MAX, IMPORTANCE_MIN, Memory, MemorySource, MemoryStatus
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


class MemoryUpdateIn(InputSchema):
    content: str | None = Field(None, min_length=1, max_length=5000)
    importance: int | None = Field(None, ge=IMPORTANCE_MIN, le=IMPORTANCE_MAX)
    tags: list[str] | None = Field(None, max_length=20)


class SuggestionApproveIn(MemoryUpdateIn):
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
    updates_id: int | None
    use_count: int
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_subject(memory: Memory) -> str:
        return subject_of(memory).notation


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
    offset: int = Field(0, ge=0, le=10_000)
    limit: int = Field(20, ge=1, le=100)


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
    review_url: str = Field(description="The admin's list of the runs that dropped something.")
