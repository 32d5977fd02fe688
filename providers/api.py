from django.http import HttpRequest
from ninja import Router, Schema

from luma.roles import Role, role_required
from luma.services import runtime_settings_get
from providers.selectors import ProviderModels, models_available

router = Router()


class ProviderModelsOut(Schema):
    provider: str
    label: str
    active: bool
    models: list[str]
    error: str | None
    endpoint: str | None


@router.get(
    "/available",
    response=list[ProviderModelsOut],
    summary="Every provider and the models it offers now, or why it cannot be reached",
)
@role_required(Role.OWNER, action="list the providers' models")
def models_available_list(request: HttpRequest) -> list[ProviderModels]:
    return models_available(runtime_settings_get())
