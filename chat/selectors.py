from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chat.models import Conversation, Message, Role
from luma.errors import NotFound


def conversations_of(*, owner: AbstractBaseUser) -> QuerySet[Conversation]:
    return Conversation.objects.filter(owner=owner).order_by("-updated_at")


def conversation_messages(*, owner: AbstractBaseUser, conversation_id: int) -> list[Message]:
    conversation = Conversation.objects.filter(pk=conversation_id, owner=owner).first()
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} does not exist.")
    return list(conversation.messages.answer_order().prefetch_related("memories_used"))


@dataclass(frozen=True)
class UsageRow:
    provider: str
    model: str
    replies: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class UsageDay:
    day: date
    by_provider: dict[str, int]

    @property
    def total_tokens(self) -> int:
        return sum(self.by_provider.values())


def _replies_since(since: datetime, owner: AbstractBaseUser | None) -> QuerySet[Message]:
    """Replies since `since`: to everyone, or (with `owner`) in that person's conversations."""
    replies = Message.objects.filter(role=Role.ASSISTANT, created_at__gte=since)
    return replies if owner is None else replies.filter(conversation__owner=owner)


def usage_by_model(*, since: datetime, owner: AbstractBaseUser | None = None) -> list[UsageRow]:
    """Token usage of every reply since `since` (or of `owner`'s conversations), per
    provider and model, biggest first."""
    rows = (
        _replies_since(since, owner)
        .values("provider", "model")
        .annotate(
            replies=Count("pk"),
            prompt=Coalesce(Sum("prompt_tokens"), 0),
            completion=Coalesce(Sum("completion_tokens"), 0),
        )
        .order_by("provider", "model")
    )
    found = [
        UsageRow(r["provider"] or "unknown", r["model"] or "unknown", r["replies"], r["prompt"],
                 r["completion"])
        for r in rows
    ]  # fmt: skip
    return sorted(found, key=lambda row: row.total_tokens, reverse=True)


def usage_by_day(*, since: datetime, owner: AbstractBaseUser | None = None) -> list[UsageDay]:
    """Tokens per day and provider since `since` (or in `owner`'s conversations), one entry
    for every day (zeros included)."""
    tz = timezone.get_current_timezone()
    rows = (
        _replies_since(since, owner)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "provider")
        .annotate(tokens=Coalesce(Sum("prompt_tokens"), 0) + Coalesce(Sum("completion_tokens"), 0))
    )
    per_day: dict[date, dict[str, int]] = {}
    for row in rows:
        per_day.setdefault(row["day"], {})[row["provider"] or "unknown"] = row["tokens"]
    first, last = timezone.localtime(since, tz).date(), timezone.localdate(timezone=tz)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [UsageDay(day, per_day.get(day, {})) for day in days]
