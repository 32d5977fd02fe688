from django.http import HttpRequest

from luma.roles import Role, role_of


def role(request: HttpRequest) -> dict[str, object]:
    """`is_owner` and `is_moderator` (moderator or owner) for templates: what to show."""
    held = role_of(getattr(request, "user", None))
    return {"is_owner": held == Role.OWNER, "is_moderator": held >= Role.MODERATOR}
