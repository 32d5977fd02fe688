"""Who may do what: the three roles of a Luma community, decided here and only here.

- **owner**: a Django staff user or superuser. Everything: runtime settings, provider
  endpoints and keys, other people's API tokens, the whole admin.
- **moderator**: a member of the "Moderators" group (created by a migration, assigned
  in the admin or with `manage.py create_moderator`). Reviews AI suggestions, manages
  global memories and documents; the admin shows them memories and documents only.
- **viewer**: any other active account. Chats, sees and manages the memories about
  themself, sees their own usage, uploads documents when the owner allows it.

Roles are ordered: each one may do what the ones below it may. Every surface asks
`role_of` or `role_require`: pages through `page_role_required`, the API through
`role_required` or the services it calls, the admin through `luma.admin_site`, the
WebSocket by its login check and the services (a conversation is its owner's).
"""

import functools
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeVar

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.views.defaults import permission_denied

from luma.errors import PermissionDenied

MODERATORS_GROUP = "Moderators"


class Role(IntEnum):
    ANONYMOUS = 0
    VIEWER = 1
    MODERATOR = 2
    OWNER = 3

    @property
    def who(self) -> str:
        """Who holds this role or a higher one, for messages: "moderators and the owner"."""
        return {
            Role.ANONYMOUS: "everyone",
            Role.VIEWER: "logged-in accounts",
            Role.MODERATOR: "moderators and the owner",
            Role.OWNER: "the owner",
        }[self]


User = AbstractBaseUser | AnonymousUser


def is_owner(user: User | None) -> bool:
    """Whether `user` is the owner; no database query (safe in async code)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def role_of(user: User | None) -> Role:
    """The role of `user`; the group lookup is made once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.ANONYMOUS
    if is_owner(user):
        return Role.OWNER
    cached = getattr(user, "_luma_role", None)
    if cached is None:
        moderator = user.groups.filter(name=MODERATORS_GROUP).exists()  # type: ignore[union-attr]
        cached = Role.MODERATOR if moderator else Role.VIEWER
        user._luma_role = cached  # type: ignore[union-attr]
    return cached


def role_require(user: User | None, role: Role, *, action: str) -> None:
    """Raise `PermissionDenied` (403) unless `user` holds `role` or a higher one.

    `action` completes "Only <who> can …", e.g. "change the settings".
    """
    held = role_of(user)
    if held < role:
        raise PermissionDenied(
            f"Only {role.who} can {action}.",
            detail=f"This needs the {role.name.lower()} role; you are a {held.name.lower()}.",
            context={"required_role": role.name.lower()},
        )


View = TypeVar("View", bound=Callable[..., Any])


def role_required(role: Role, *, action: str) -> Callable[[View], View]:
    """Decorate an API operation (taking `request` first): a role too low gets
    `PermissionDenied`, which the API renders as its JSON 403."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            role_require(request.user, role, action=action)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def page_role_required(role: Role, *, action: str) -> Callable[[View], View]:
    """Decorate a page: anonymous visitors go to the login page, a role too low gets
    the friendly 403 page (`templates/403.html`) saying which role it needs."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if role_of(request.user) == Role.ANONYMOUS:
                return redirect_to_login(request.get_full_path())
            try:
                role_require(request.user, role, action=action)
            except PermissionDenied as refused:
                return permission_denied(request, refused)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


class OwnerPermissionBackend(BaseBackend):
    """Owners hold every Django permission, superuser or not (the admin asks for them)."""

    def has_perm(self, user_obj: Any, perm: str, obj: object = None) -> bool:
        return role_of(user_obj) == Role.OWNER

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return role_of(user_obj) == Role.OWNER
