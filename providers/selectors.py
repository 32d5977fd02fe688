from dataclasses import dataclass, field

from luma.models import ProviderName, RuntimeSettings
from providers.adapters.ollama import OllamaProvider
from providers.errors import ProviderError
from providers.registry import provider_build


@dataclass
class ProviderModels:
    provider: str
    label: str
    active: bool
    models: list[str] = field(default_factory=list)
    error: str | None = None
    endpoint: str | None = None  # for Ollama: the endpoint that answered


def models_available(row: RuntimeSettings) -> list[ProviderModels]:
    """Every provider with the models it offers now, or why it cannot be reached."""
    results = []
    for choice in ProviderName:
        entry = ProviderModels(choice.value, choice.label, active=row.provider == choice)
        try:
            provider = provider_build(row, choice.value)
            entry.models = provider.list_models()
            if isinstance(provider, OllamaProvider):
                entry.endpoint = provider.endpoint
        except ProviderError as error:
            entry.error = error.message
        results.append(entry)
    return results
