"""Who a memory is about, and how that is written: the one place that parses, prints
and queries it.

A memory is about everyone (no subject), one web account, one Discord user or one
Twitch viewer. The API writes that as `everyone`, `user:<id>`, `discord:<id>` or
`twitch:<id>`; a person writing about themself may say `me`.

A chat account outside Luma (Discord, Twitch) is kept in one column,
`subject_discord_id` (and `Message.author_discord_id`, `Speaker.discord_id`): a
Discord id as its digits, a Twitch user id as `twitch:<digits>` (`twitch_account`),
so retrieval, suggestions and review treat both alike and never mix them up.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from luma.errors import LumaError

EVERYONE = "everyone"
ME = "me"
NOTATION = 'Who it is about: "me", "everyone", "user:<id>", "discord:<id>" or "twitch:<id>"'
PATTERN = r"^(me|everyone|user:\d+|discord:\d+|twitch:\d+)$"  # for API schemas
TWITCH = "twitch:"


def twitch_account(user_id: str) -> str:
    """The external account id of a Twitch viewer (their numeric Twitch user id)."""
    return f"{TWITCH}{user_id}"


def account_label(account_id: str) -> str:
    """How an external account is named for people: "Twitch user 123", "Discord user 456"."""
    if account_id.startswith(TWITCH):
        return f"Twitch user {account_id.removeprefix(TWITCH)}"
    return f"Discord user {account_id}"


# The memories about everyone: neither a web account nor a Discord user.
ABOUT_EVERYONE = Q(subject_user__isnull=True, subject_discord_id="")


class InvalidSubject(LumaError):
    pass


@dataclass(frozen=True)
class Subject:
    """Everyone (both empty), one web account (`user_id`) or one Discord user."""

    user_id: int | None = None
    discord_id: str = ""

    @property
    def is_everyone(self) -> bool:
        return self.user_id is None and not self.discord_id

    @property
    def notation(self) -> str:
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.discord_id.startswith(TWITCH):
            return self.discord_id
        if self.discord_id:
            return f"discord:{self.discord_id}"
        return EVERYONE

    def memories(self) -> Q:
        """A filter for the memories about this subject (and no one else)."""
        if self.user_id is not None:
            return Q(subject_user_id=self.user_id)
        if self.discord_id:
            return Q(subject_discord_id=self.discord_id)
        return ABOUT_EVERYONE

    def fields(self) -> dict[str, Any]:
        """The memory's subject columns, e.g. for `Memory(**subject.fields())`."""
        return {"subject_user_id": self.user_id, "subject_discord_id": self.discord_id}


def subject_parse(text: str, *, me: AbstractBaseUser | AnonymousUser | None = None) -> Subject:
    """`everyone`, `user:<id>`, `discord:<id>`, or `me` (the account `me`).

    Raises `InvalidSubject` (400) for anything else, or `me` without an account.
    """
    if text == EVERYONE:
        return Subject()
    if text == ME and me is not None and me.is_authenticated:
        return Subject(user_id=me.pk)
    kind, _, value = text.partition(":")
    if kind == "user" and value.isdigit():
        return Subject(user_id=int(value))
    if kind == "discord" and value.isdigit():
        return Subject(discord_id=value)
    if kind == "twitch" and value.isdigit():
        return Subject(discord_id=twitch_account(value))
    raise InvalidSubject(
        f"subject: {text!r} is not one of me, everyone, user:<id>, discord:<id>, twitch:<id>."
    )


def subject_of(memory: Any) -> Subject:
    """The subject of a memory (anything with `subject_user_id` and `subject_discord_id`)."""
    return Subject(user_id=memory.subject_user_id, discord_id=memory.subject_discord_id or "")
