from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chat.models import Conversation, Message, Role
from luma.errors import NotFound


def conversations_of(*, owner: AbstractBaseUser, query: str = "") -> QuerySet[Conversation]:
    """`owner`'s conversations, most recently updated first; with `query`, those whose
    title or a shown message holds it (`match`: the first such message's text)."""
    found = Conversation.objects.filter(owner=owner).order_by("-updated_at", "-pk")
    query = " ".join(query.split())
    if not query:
        return found
    matching = Message.objects.shown().filter(conversation=OuterRef("pk"), content__icontains=query)
    return found.annotate(
        match=Subquery(matching.order_by("pk").values("content")[:1]), query=Value(query)
    ).filter(Q(title__icontains=query) | Q(match__isnull=False))


def conversation_owned(*, owner: AbstractBaseUser, conversation_id: int) -> Conversation:
    conversation = Conversation.objects.filter(pk=conversation_id, owner=owner).first()
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} does not exist.")
    return conversation


def conversation_messages(*, owner: AbstractBaseUser, conversation_id: int) -> list[Message]:
    """The messages as the conversation reads: of a reply's versions the chosen one,
    with `versions` (every version's id, oldest first) set on each message."""
    conversation = conversation_owned(owner=owner, conversation_id=conversation_id)
    versions: dict[int, list[int]] = {}
    replies = conversation.messages.filter(role=Role.ASSISTANT, reply_to__isnull=False)
    for pk, reply_to in replies.order_by("pk").values_list("pk", "reply_to_id"):
        versions.setdefault(reply_to, []).append(pk)
    messages = list(conversation.messages.shown().answer_order().prefetch_related("memories_used"))
    for message in messages:
        message.versions = versions.get(message.reply_to_id, [message.pk])  # type: ignore[attr-defined]
        if message.role != Role.ASSISTANT:
            message.versions = [message.pk]  # type: ignore[attr-defined]
    return messages


def reply_versions(*, message: Message) -> list[int]:
    """The ids of every version of the reply `message` (itself for anything else)."""
    if message.role != Role.ASSISTANT or message.reply_to_id is None:
        return [message.pk]
    versions = Message.objects.filter(
        conversation_id=message.conversation_id, role=Role.ASSISTANT, reply_to=message.reply_to_id
    )
    return list(versions.order_by("pk").values_list("pk", flat=True))


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
