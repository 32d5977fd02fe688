from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from memories.models import Memory, MemoryStatus
from providers.base import estimate_tokens


def memories_visible_to(
    *, user: AbstractBaseUser | None = None, discord_id: str = ""
) -> QuerySet[Memory]:
    """Approved memories a prompt for this person may use: global ones and their own."""
    about_them = Q(subject_user__isnull=True, subject_discord_id="")
    if user is not None and user.is_authenticated:
        about_them |= Q(subject_user=user)
    if discord_id:
        about_them |= Q(subject_discord_id=discord_id)
    return Memory.objects.filter(about_them, status=MemoryStatus.APPROVED)


def memories_for_prompt(
    *,
    query: str,
    user: AbstractBaseUser | None = None,
    discord_id: str = "",
    limit: int,
    token_budget: int,
) -> list[Memory]:
    """The memories to put into the prompt for `query`, most important first,
    within `limit` and `token_budget`."""
    if limit <= 0 or token_budget <= 0:
        return []
    candidates = memories_visible_to(user=user, discord_id=discord_id).order_by(
        "-importance", "-updated_at"
    )[: limit * 4]
    chosen: list[Memory] = []
    spent = 0
    for memory in candidates:
        cost = estimate_tokens(memory.content) + 2
        if spent + cost > token_budget:
            continue
        chosen.append(memory)
        spent += cost
        if len(chosen) == limit:
            break
    return chosen
