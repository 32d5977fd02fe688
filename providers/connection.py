"""Test connection: ask the server the settings page shows, before it is saved.

The owner types an address and a key and wants to know at once whether they work, in
the words the chat would use when they do not. Listing the models is the cheapest
request every server answers, and it checks the address, the key and the model name.
"""

from dataclasses import dataclass, field

from luma.models import ProviderName, RuntimeSettings
from luma.services import runtime_settings_key_check, runtime_settings_normalise
from providers.adapters.deepseek import DeepSeekProvider
from providers.adapters.ollama import OllamaProvider
from providers.base import Provider
from providers.errors import ProviderError
from providers.registry import provider_build

# Seconds to wait for the model list: a server that answers a person at all answers this.
TEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class ConnectionTest:
    provider: str
    address: str  # as it will be saved (normalised)
    ok: bool
    message: str  # what the server answered, for a person
    model: str = ""
    model_found: bool | None = None  # None when the list could not be had
    models: list[str] = field(default_factory=list)


def connection_test(
    *, row: RuntimeSettings, provider: str, address: str, api_key: str | None, model: str
) -> ConnectionTest:
    """List the models at `address` and say what came back, never the key.

    An empty or masked `api_key` means the stored key, which only goes to the stored
    base URL (`InvalidSettings`, 400, for another one). An address that cannot be one is
    refused the same way as when saving it.
    """
    address, key = _address_and_key(row, provider, address, api_key)
    try:
        models = _provider_for(row, provider, address, key).list_models()
    except ProviderError as error:
        return ConnectionTest(provider, address, ok=False, message=_failed(error, key), model=model)
    found = _model_listed(model, models) if model else None
    return ConnectionTest(
        provider,
        address,
        ok=True,
        message=_answer(provider, address, models, model, found),
        model=model,
        model_found=found,
        models=models,
    )


def _address_and_key(
    row: RuntimeSettings, provider: str, address: str, api_key: str | None
) -> tuple[str, str]:
    """The address as it would be saved, and the key to send there ("" for none)."""
    if provider == ProviderName.OLLAMA:
        return runtime_settings_normalise({"ollama_endpoint": address})["ollama_endpoint"], ""
    if provider != ProviderName.DEEPSEEK:
        return "", ""
    url = runtime_settings_normalise({"deepseek_base_url": address})["deepseek_base_url"]
    entered = row.deepseek_api_key_entered(api_key or None)
    runtime_settings_key_check(
        row=row, changes={"deepseek_base_url": url, "deepseek_api_key": entered}
    )
    return url, entered or row.deepseek_api_key


def _provider_for(row: RuntimeSettings, provider: str, address: str, key: str) -> Provider:
    """The provider at exactly `address`: no fallback endpoints, a short timeout."""
    if provider == ProviderName.OLLAMA:
        return OllamaProvider(
            endpoint=address, fallbacks=[], timeout=TEST_TIMEOUT, embedding_model=""
        )
    if provider == ProviderName.DEEPSEEK:
        return DeepSeekProvider(api_key=key, base_url=address, timeout=TEST_TIMEOUT)
    return provider_build(row, provider)


def _failed(error: ProviderError, key: str) -> str:
    """The error's sentence, with the key blotted out should the server have quoted it."""
    return error.message.replace(key, "…") if key else error.message


def _model_listed(model: str, models: list[str]) -> bool:
    """Ollama answers to `name` for `name:latest`."""
    return model in models or f"{model}:latest" in models


def _answer(provider: str, address: str, models: list[str], model: str, found: bool | None) -> str:
    where = address or "The built-in model"
    count = f"{len(models)} model{'' if len(models) == 1 else 's'}"
    said = f"Connected: {where} lists {count}"
    if found is None:
        return f"{said}."
    if found:
        return f"{said}, {model} among them."
    pull = f" or run `ollama pull {model}` there" if provider == ProviderName.OLLAMA else ""
    return f"{said}, but not {model}: pick one of them{pull}."
