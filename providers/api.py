from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from luma.models import ProviderName
from luma.roles import Role, role_required
from luma.schemas import InputSchema
from luma.services import runtime_settings_get
from providers.connection import ConnectionTest, connection_test
from providers.selectors import ProviderModels, models_available

router = Router()


class ProviderModelsOut(Schema):
    provider: str
    label: str
    active: bool
    models: list[str]
    error: str | None
    endpoint: str | None


class ConnectionTestIn(InputSchema):
    """What the settings form holds now, saved or not. `api_key` empty, absent or the
    masked form means the stored key (which only goes to the stored base URL)."""

    provider: ProviderName
    address: str = Field("", max_length=500, description="Ollama endpoint or base URL")
    api_key: str | None = Field(None, max_length=500)
    model: str = Field("", max_length=200)


class ConnectionTestOut(Schema):
    provider: str
    address: str = Field(description="The address as it will be saved (normalised)")
    ok: bool
    message: str = Field(description="What the server answered, in a sentence")
    model: str
    model_found: bool | None
    models: list[str]


@router.get(
    "/available",
    response=list[ProviderModelsOut],
    summary="Every provider and the models it offers now, or why it cannot be reached",
)
@role_required(Role.OWNER, action="list the providers' models")
def models_available_list(request: HttpRequest) -> list[ProviderModels]:
    return models_available(runtime_settings_get())


@router.post(
    "/test",
    response=ConnectionTestOut,
    summary="Test connection: list the models at an address and say what the server answered",
)
@role_required(Role.OWNER, action="test a provider's connection")
def models_connection_test(request: HttpRequest, payload: ConnectionTestIn) -> ConnectionTest:
    return connection_test(
        row=runtime_settings_get(),
        provider=payload.provider,
        address=payload.address,
        api_key=payload.api_key,
        model=payload.model,
    )
