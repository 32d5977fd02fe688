"""Luma's one family of domain errors.

Every error a person may see derives from `LumaError`: it carries a message
written for that person, an optional technical detail, and optional context
(ids a client needs to recover, e.g. the conversation a failed reply was for).
`config.api` renders them once for the whole API; the chat renders them as banners.
"""

from typing import Any

from django.core import exceptions as django_exceptions


class LumaError(Exception):
    status_code = 400

    def __init__(
        self, message: str, *, detail: str = "", context: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.context: dict[str, Any] = dict(context or {})

    def __str__(self) -> str:
        return self.message


class NotFound(LumaError):
    status_code = 404


class PermissionDenied(LumaError, django_exceptions.PermissionDenied):
    """403. Also Django's own, so a page that raises it renders `403.html`."""

    status_code = 403
