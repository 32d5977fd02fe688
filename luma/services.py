import copy
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from luma.endpoints import base_url_normalise, ollama_endpoint_normalise
from luma.errors import LumaError
from luma.models import ApiToken, ProviderName, RuntimeSettings
from luma.roles import MODERATORS_GROUP, Role, role_of

# Environment variables that seed the settings row the first time it is created.
_ENV_SEEDS: dict[str, str] = {
    "provider": "MODEL_PROVIDER",
    "fallback_provider": "FALLBACK_PROVIDER",
    "deepseek_api_key": "DEEPSEEK_API_KEY",
    "deepseek_base_url": "DEEPSEEK_BASE_URL",
    "deepseek_model": "DEEPSEEK_MODEL",
    "ollama_endpoint": "OLLAMA_ENDPOINT",
    "ollama_model": "OLLAMA_MODEL",
    "ollama_embedding_model": "OLLAMA_EMBEDDING_MODEL",
    "temperature": "TEMPERATURE",
    "max_tokens": "MAX_TOKENS",
    "memory_context_limit": "MEMORY_CONTEXT_LIMIT",
    "memory_suggestion_threshold": "MEMORY_SUGGESTION_THRESHOLD",
    "memory_suggestions_enabled": "MEMORY_SUGGESTIONS_ENABLED",
    "viewer_uploads_enabled": "VIEWER_UPLOADS_ENABLED",
}
_BOOLEAN_FIELDS = {"memory_suggestions_enabled", "viewer_uploads_enabled"}

# Auto-approval is switched on in the app only, never by the environment.
AUTO_APPROVAL_FIELDS = (
    "auto_approve_enabled",
    "auto_approve_sources",
    "auto_approve_min_importance",
    "auto_approve_min_confidence",
)

# The memory rules and blocklist are set in the app only: no environment variable seeds them.
EDITABLE_FIELDS = (*_ENV_SEEDS, "memory_rules", "memory_blocklist", *AUTO_APPROVAL_FIELDS)

# Addresses are saved in the form their client wants (see luma.endpoints).
ENDPOINT_NORMALISERS: dict[str, Callable[[str], str]] = {
    "deepseek_base_url": base_url_normalise,
    "ollama_endpoint": ollama_endpoint_normalise,
}


class InvalidSettings(LumaError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.items()))
        detail = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in errors.items())
        super().__init__(f"Invalid value for {first[0]}: {first[1][0]}", detail=detail)
        self.errors = errors


def _seed_from_environment() -> dict[str, Any]:
    seeds: dict[str, Any] = {}
    for field, variable in _ENV_SEEDS.items():
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            continue
        if field in _BOOLEAN_FIELDS:
            seeds[field] = raw.lower() in {"1", "true", "yes", "on"}
        else:
            seeds[field] = RuntimeSettings._meta.get_field(field).to_python(raw)
    if "provider" not in seeds:
        # A configured key or endpoint means the user wants that provider.
        if seeds.get("deepseek_api_key"):
            seeds["provider"] = ProviderName.DEEPSEEK
        elif "OLLAMA_ENDPOINT" in os.environ or "OLLAMA_MODEL" in os.environ:
            seeds["provider"] = ProviderName.OLLAMA
    return seeds


def runtime_settings_normalise(changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with each address in its client's form; `InvalidSettings` (400) for
    one that cannot be a server's address, with the form expected."""
    normalised = dict(changes)
    errors: dict[str, list[str]] = {}
    for field, normalise in ENDPOINT_NORMALISERS.items():
        if changes.get(field) is None:
            continue
        try:
            normalised[field] = normalise(changes[field])
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise InvalidSettings(errors)
    return normalised


def _same_base_url(first: str, second: str) -> bool:
    """Whether two base URLs are one address once normalised (rows saved before
    normalising may hold `/v1/` or `/chat/completions`)."""
    try:
        return base_url_normalise(first) == base_url_normalise(second)
    except ValidationError:
        return first == second


def runtime_settings_get() -> RuntimeSettings:
    """The settings row, created from the environment the first time."""
    found = RuntimeSettings.objects.filter(pk=1).first()
    if found is not None:
        return found
    candidate = RuntimeSettings(pk=1, **runtime_settings_normalise(_seed_from_environment()))
    try:
        candidate.full_clean()
    except ValidationError as error:
        raise InvalidSettings(error.message_dict) from None
    with transaction.atomic():
        row, _ = RuntimeSettings.objects.get_or_create(
            pk=1, defaults={f: getattr(candidate, f) for f in EDITABLE_FIELDS}
        )
    return row


def runtime_settings_key_check(*, row: RuntimeSettings, changes: dict[str, Any]) -> None:
    """A stored key is only sent to the base URL it was entered with: moving the base
    URL needs the key again, so a stolen session cannot redirect it silently."""
    new_url = changes.get("deepseek_base_url")
    if new_url is None or not row.deepseek_api_key:
        return
    if _same_base_url(new_url, row.deepseek_base_url):
        return
    if changes.get("deepseek_api_key") is None:
        raise InvalidSettings(
            {
                "deepseek_api_key": [
                    "Enter the API key again to change the base URL: the stored key is "
                    "only sent to the address it was entered with."
                ]
            }
        )


def runtime_settings_update(**changes: Any) -> RuntimeSettings:
    """Validate and save changes; a value of None leaves that setting alone.

    Addresses are normalised first (`luma.endpoints`). Raises `InvalidSettings` (400)
    for an unknown setting, an invalid value, or a new `deepseek_base_url` without
    `deepseek_api_key` while a key is stored.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidSettings({name: ["Not a setting."] for name in sorted(unknown)})
    changes = runtime_settings_normalise(changes)
    row = runtime_settings_get()
    changes["deepseek_api_key"] = row.deepseek_api_key_entered(changes.get("deepseek_api_key"))
    stored = copy.copy(row)  # as it was, for the key rule below
    for field, value in changes.items():
        if value is None:
            continue
        setattr(row, field, value)
    try:
        row.full_clean()
    except ValidationError as error:
        raise InvalidSettings(error.message_dict) from None
    runtime_settings_key_check(row=stored, changes=changes)
    row.save()
    return row


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    plain = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=ApiToken.hash(plain), prefix=plain[:12]
    )
    return token, plain


def api_token_user(plain: str) -> AbstractBaseUser | None:
    token = ApiToken.objects.select_related("user").filter(token_hash=ApiToken.hash(plain)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def admin_ensure(*, username: str, password: str | None, password_file: Path) -> str:
    """Make sure a superuser exists; return how to log in.

    A new admin gets `password`, or a random one written to `password_file`
    (readable by its owner only) so it can be found again.
    """
    User = get_user_model()
    existing = User.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        hint = f" (password in {password_file})" if password_file.exists() else ""
        return f"Log in as {existing.get_username()!r}{hint}."
    if not password:
        password = secrets.token_urlsafe(12)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
    User.objects.create_superuser(username=username, email="", password=password)
    return (
        f"Created the admin login {username!r} with password {password!r} "
        f"(saved in {password_file})."
    )


@transaction.atomic
def moderator_ensure(*, username: str, password: str | None = None) -> str:
    """Put `username` in the Moderators group, creating the account if need be; return
    what was done, for a person. `password` is for a new account only (random if None)."""
    User = get_user_model()
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    user = User.objects.filter(username=username).first()
    if user is None:
        chosen = password or secrets.token_urlsafe(12)
        user = User.objects.create_user(username=username, password=chosen)
        user.groups.add(group)
        shown = "the password you gave" if password else f"password {chosen!r}"
        return f"Created the moderator {username!r} with {shown}."
    if password:
        raise LumaError(f"{username!r} exists already: --password is only for a new account.")
    if role_of(user) == Role.OWNER:
        return f"{username!r} is the owner (staff) and may do everything already."
    user.groups.add(group)
    return f"{username!r} is now a moderator."
