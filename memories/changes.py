"""Who is changing memories, and through which surface: the context every history
record takes its "who" and "where" from.

django-simple-history writes a version of a memory on each save and delete
(`Memory.history`). The version's user, surface and actor name come from here:
each entry point says once who acts and from where (`memory_changes_by`), or the
request middleware says it for every page, API and admin request, so that services
stay unaware of where they were called from. Context variables follow a call onto
the threads `asgiref` and the reply relay run it on.

This module imports nothing from `memories`: the model's history fields use it.
"""

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.http import HttpRequest, HttpResponse


class Surface(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    DISCORD = "discord", "Discord"
    IMPORT = "import", "Import"
    AI = "ai", "AI suggestion"
    SYSTEM = "system", "Luma itself"


@dataclass(frozen=True)
class ChangeContext:
    surface: str = Surface.SYSTEM
    user: AbstractBaseUser | None = None
    request: HttpRequest | None = None
    # Who acted when it is no web account (a Discord member's name).
    actor: str = ""

    def who(self) -> AbstractBaseUser | None:
        if self.user is not None:
            return self.user
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


_NOBODY = ChangeContext()
_context: contextvars.ContextVar[ChangeContext | None] = contextvars.ContextVar(
    "memory_change_context", default=None
)


def _current() -> ChangeContext:
    return _context.get() or _NOBODY


@contextmanager
def memory_changes_by(
    *, surface: str, user: AbstractBaseUser | None = None, actor: str = ""
) -> Iterator[None]:
    """Record every memory change inside the block as made by `user` (or `actor`,
    a name) through `surface`."""
    token = _context.set(ChangeContext(surface=surface, user=user, actor=actor[:150]))
    try:
        yield
    finally:
        _context.reset(token)


_deletions_recorded: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "memory_deletions_recorded", default=False
)


@contextmanager
def memory_deletions_recorded() -> Iterator[None]:
    """Inside the block, deleted memories get no version each: the caller recorded
    them in bulk (one INSERT per thousands of rows, not one per row)."""
    token = _deletions_recorded.set(True)
    try:
        yield
    finally:
        _deletions_recorded.reset(token)


def deletions_recorded() -> bool:
    return _deletions_recorded.get()


def change_surface() -> str:
    """The surface changes are being made through now (a history field's default)."""
    return _current().surface


def change_actor() -> str:
    """The acting name when no web account acts (a history field's default)."""
    return _current().actor


def change_user(instance: Any = None, request: Any = None, **kwargs: Any) -> Any:
    """The web account changes are being made by now (django-simple-history's `get_user`)."""
    return _current().who()


def request_surface(request: HttpRequest) -> str:
    """The admin, the API with a bearer token, or a web page (the panel calls the
    API with its session, and counts as the web)."""
    if request.path.startswith("/admin/"):
        return Surface.ADMIN
    if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith(
        "Bearer "
    ):
        return Surface.API
    return Surface.WEB


class MemoryChangeMiddleware:
    """Every request's memory changes are made by its user through its surface."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _context.set(ChangeContext(surface=request_surface(request), request=request))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)
