"""The admin for owners and moderators.

Owners see everything (`luma.roles.OwnerPermissionBackend` gives them every
permission). Moderators may enter too, and see the model admins that mix in
`ModeratorAccess`: memories and documents.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.views.defaults import permission_denied

from luma.errors import PermissionDenied
from luma.roles import Role, role_of


class LumaAdminAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)
        if role_of(user) < Role.MODERATOR:
            raise ValidationError(
                "This account is neither a moderator nor the owner: the admin is not for it.",
                code="invalid_login",
            )


class LumaAdminSite(admin.AdminSite):
    site_header = "Luma administration"
    site_title = "Luma admin"
    index_title = "What you can manage"
    login_form = LumaAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return role_of(request.user) >= Role.MODERATOR

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """A logged-in viewer sent here gets the 403 page saying who may enter,
        not a second login form."""
        if request.method == "GET" and role_of(request.user) == Role.VIEWER:
            refused = PermissionDenied(f"Only {Role.MODERATOR.who} can use the admin.")
            return permission_denied(request, refused)
        return super().login(request, extra_context)


class ModeratorAccess:
    """For model admins that moderators manage: they may view, add, change and delete.

    A model admin that forbids adding (or deleting) for everyone still does: its own
    method comes first.
    """

    def _moderator(self, request: HttpRequest) -> bool:
        return role_of(request.user) >= Role.MODERATOR

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._moderator(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._moderator(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return self._moderator(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._moderator(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._moderator(request)
