from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from luma.models import (
    MEMORY_BLOCKLIST_ENTRY_MAX_CHARS,
    MEMORY_BLOCKLIST_MAX_LINES,
    MEMORY_RULE_MAX_CHARS,
    MEMORY_RULES_MAX_LINES,
    AutoApprovalSource,
    ProviderName,
    RuntimeSettings,
)
from luma.roles import Role, role_required
from luma.schemas import InputSchema
from luma.services import runtime_settings_get, runtime_settings_update

router = Router()


class SettingsOut(Schema):
    provider: ProviderName
    fallback_provider: ProviderName | Literal[""]
    deepseek_api_key_set: bool
    deepseek_api_key_masked: str
    deepseek_base_url: str
    deepseek_model: str
    ollama_endpoint: str
    ollama_model: str
    ollama_embedding_model: str
    temperature: float
    max_tokens: int
    memory_context_limit: int
    memory_suggestion_threshold: int
    memory_suggestions_enabled: bool
    memory_rules: str = Field(
        description="Owner's rules for what is worth remembering, one a line; given to "
        "the model each time it suggests memories."
    )
    memory_blocklist: str = Field(
        description="Words and phrases no suggested memory may contain, one a line; a "
        "suggestion with one is withheld (counted in GET /api/memory/suggestions/runs)."
    )
    viewer_uploads_enabled: bool
    auto_approve_enabled: bool = Field(
        description="Approve AI suggestions on arrival (off by default); each is marked "
        "`auto_approved` and can be undone one by one or a whole day at a time."
    )
    auto_approve_sources: list[AutoApprovalSource] = Field(
        description="The conversations auto-approval applies to: web, discord."
    )
    auto_approve_min_importance: int
    auto_approve_min_confidence: float

    @staticmethod
    def resolve_deepseek_api_key_set(row: RuntimeSettings) -> bool:
        return bool(row.deepseek_api_key)


class SettingsIn(InputSchema):
    """Every field is optional: only what is sent changes; an unknown field is refused (422).

    `deepseek_api_key` is write-only: send a new key to replace it, "" to clear it.
    Changing `deepseek_base_url` while a key is stored needs the key in the same
    request (400 otherwise): the key only goes to an address it was entered with.
    """

    provider: ProviderName | None = None
    fallback_provider: ProviderName | Literal[""] | None = None
    deepseek_api_key: str | None = Field(None, max_length=500)
    deepseek_base_url: str | None = None
    deepseek_model: str | None = None
    ollama_endpoint: str | None = None
    ollama_model: str | None = None
    ollama_embedding_model: str | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1, le=32768)
    memory_context_limit: int | None = Field(None, ge=0, le=100)
    memory_suggestion_threshold: int | None = Field(None, ge=1, le=10)
    memory_suggestions_enabled: bool | None = None
    memory_rules: str | None = Field(
        None,
        max_length=MEMORY_RULES_MAX_LINES * (MEMORY_RULE_MAX_CHARS + 2),
        description=f"One rule a line: at most {MEMORY_RULES_MAX_LINES} rules of "
        f'{MEMORY_RULE_MAX_CHARS} characters (400 otherwise); "" clears them.',
    )
    memory_blocklist: str | None = Field(
        None,
        max_length=MEMORY_BLOCKLIST_MAX_LINES * (MEMORY_BLOCKLIST_ENTRY_MAX_CHARS + 2),
        description=f"One word or phrase a line: at most {MEMORY_BLOCKLIST_MAX_LINES} "
        f'entries of {MEMORY_BLOCKLIST_ENTRY_MAX_CHARS} characters (400 otherwise); "" '
        "clears it.",
    )
    viewer_uploads_enabled: bool | None = None
    auto_approve_enabled: bool | None = None
    auto_approve_sources: list[AutoApprovalSource] | None = Field(
        None, max_length=len(AutoApprovalSource)
    )
    auto_approve_min_importance: int | None = Field(None, ge=1, le=10)
    auto_approve_min_confidence: float | None = Field(None, ge=0.0, le=1.0)

    model_config = ConfigDict(extra="forbid")


@router.get("", response=SettingsOut, summary="Read the runtime settings (the API key masked)")
@role_required(Role.OWNER, action="read the settings")
def settings_read(request: HttpRequest) -> RuntimeSettings:
    return runtime_settings_get()


@router.put("", response=SettingsOut, summary="Change runtime settings")
@role_required(Role.OWNER, action="change the settings")
def settings_update(request: HttpRequest, payload: SettingsIn) -> RuntimeSettings:
    return runtime_settings_update(**payload.dict(exclude_unset=True))
