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
    # What someone who cannot change Luma's settings is told instead of `message`, when
    # `message` is advice only the owner can follow (a key, an address); None: `message`.
    viewer_message: str | None = None

    def __init__(
        self, message: str, *, detail: str = "", context: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.context: dict[str, Any] = dict(context or {})

    def __str__(self) -> str:
        return self.message

    def message_for(self, *, owner: bool) -> str:
        """The sentence for this person: the owner's advice, or what a viewer can do."""
        return self.message if owner or self.viewer_message is None else self.viewer_message


class NotFound(LumaError):
    status_code = 404


class PermissionDenied(LumaError, django_exceptions.PermissionDenied):
    """403. Also Django's own, so a page that raises it renders `403.html`."""

    status_code = 403
