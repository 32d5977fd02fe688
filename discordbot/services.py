"""What the Discord bot does with Luma's data: sync code, called from the bot
through `database_sync_to_async` (the bot's async code never touches the ORM).
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from discordbot.models import BotSettings, PostedSuggestion
from luma.errors import NotFound, PermissionDenied
from luma.services import runtime_settings_get
from memories.changes import Surface, memory_changes_by
from memories.models import Memory, MemorySource, MemoryStatus
from memories.selectors import MemoryFilters, memories_visible_to, memory_search
from memories.services import memory_approve, memory_create, memory_delete, memory_reject

logger = logging.getLogger(__name__)

MEMORIES_LISTED = 20


@dataclass(frozen=True)
class DiscordMember:
    """The Discord user behind an interaction, as much as the rules need."""

    id: int
    name: str
    role_ids: frozenset[int] = frozenset()

    @property
    def discord_id(self) -> str:
        return str(self.id)


Action = TypeVar("Action", bound=Callable[..., Any])


def _recorded_as_member(action: Action) -> Action:
    """The memory history records the action's changes as the Discord member's."""

    @functools.wraps(action)
    def wrapped(*, member: DiscordMember, **kwargs: Any) -> Any:
        actor = f"{member.name} (Discord {member.discord_id})"
        with memory_changes_by(surface=Surface.DISCORD, actor=actor):
            return action(member=member, **kwargs)

    return wrapped  # type: ignore[return-value]


def bot_settings_get() -> BotSettings:
    """The bot's settings row, created from the environment the first time."""
    row = BotSettings.objects.filter(pk=1).first()
    if row is not None:
        return row
    seeded = BotSettings(
        pk=1,
        moderation_channel_id=settings.DISCORD_MODERATION_CHANNEL_ID.strip(),
        moderator_role_ids=settings.DISCORD_MODERATOR_ROLE_IDS,
        moderator_user_ids=settings.DISCORD_MODERATOR_USER_IDS,
    )
    try:
        seeded.full_clean(validate_unique=False)
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise ImproperlyConfigured(f"DISCORD_{field.upper()}: {problems[0]}") from None
    row, _ = BotSettings.objects.get_or_create(
        pk=1,
        defaults={
            "moderation_channel_id": seeded.moderation_channel_id,
            "moderator_role_ids": seeded.moderator_role_ids,
            "moderator_user_ids": seeded.moderator_user_ids,
        },
    )
    return row


def member_is_moderator(*, member: DiscordMember) -> bool:
    return bot_settings_get().is_moderator(user_id=member.id, role_ids=member.role_ids)


@_recorded_as_member
def discord_memory_remember(
    *, member: DiscordMember, content: str, about_everyone: bool = False
) -> Memory:
    """A memory about the caller, or (moderators only) about everyone."""
    if about_everyone:
        if not member_is_moderator(member=member):
            raise PermissionDenied("Only moderators can add memories about everyone.")
        return memory_create(content=content, source=MemorySource.MANUAL)
    return memory_create(
        content=content,
        source=MemorySource.MANUAL,
        subject_discord_id=member.discord_id,
        subject_name=member.name,
    )


def discord_memories_list(*, member: DiscordMember, query: str = "") -> list[Memory]:
    """The approved memories about the caller (never anyone else's), the most
    relevant to `query` first, or the most important without one."""
    theirs = memories_visible_to(discord_id=member.discord_id).filter(
        subject_discord_id=member.discord_id
    )
    _, found = memory_search(
        queryset=theirs, query=query, filters=MemoryFilters(), offset=0, limit=MEMORIES_LISTED
    )
    return [item.memory for item in found]


@_recorded_as_member
def discord_memory_forget(*, member: DiscordMember, memory_id: int) -> Memory:
    """Delete one of the caller's memories; anyone else's looks as if it did not exist."""
    memory = Memory.objects.filter(pk=memory_id, subject_discord_id=member.discord_id).first()
    if memory is None:
        raise NotFound(f"You have no memory #{memory_id}.")
    memory_delete(memory=memory)
    return memory


def suggestions_to_post(*, limit: int = 10) -> tuple[str, list[Memory]]:
    """The moderation channel and the pending AI suggestions not posted there yet."""
    channel_id = bot_settings_get().moderation_channel_id
    if not channel_id or not runtime_settings_get().memory_suggestions_enabled:
        return "", []
    pending = (
        Memory.objects.filter(
            status=MemoryStatus.PENDING,
            source=MemorySource.AI_SUGGESTED,
            discord_post__isnull=True,
        )
        .select_related("subject_user", "updates")
        .order_by("created_at", "pk")[:limit]
    )
    return channel_id, list(pending)


def suggestion_mark_posted(*, memory_id: int, channel_id: str, message_id: str) -> None:
    PostedSuggestion.objects.get_or_create(
        memory_id=memory_id, defaults={"channel_id": channel_id, "message_id": message_id}
    )


@_recorded_as_member
@transaction.atomic
def suggestion_review(*, member: DiscordMember, memory_id: int, approve: bool) -> Memory:
    """Approve or reject a suggestion from its Discord buttons (moderators only).

    Raises `SuggestionAlreadyReviewed` when someone else was first.
    """
    if not member_is_moderator(member=member):
        raise PermissionDenied("Sorry, only moderators can review memory suggestions.")
    memory = Memory.objects.filter(pk=memory_id).first()
    if memory is None:
        raise NotFound("This suggestion no longer exists.")
    PostedSuggestion.objects.filter(memory_id=memory_id).update(
        reviewed_by_discord_id=member.discord_id, reviewed_by_name=member.name[:150]
    )
    review = memory_approve if approve else memory_reject
    memory = review(memory=memory)
    logger.info(
        "Suggestion %s %s by Discord user %s",
        memory_id,
        "approved" if approve else "rejected",
        member.discord_id,
    )
    return memory
