"""Which provider to use is a setting: this turns the settings row into one."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from luma.endpoints import address_normalised, base_url_normalise
from luma.models import ProviderName, RuntimeSettings
from providers.adapters.builtin import MODEL_NAME as BUILTIN_MODEL_NAME
from providers.adapters.builtin import BuiltinProvider
from providers.adapters.deepseek import DeepSeekProvider
from providers.adapters.ollama import OllamaProvider
from providers.base import ChatOptions, Provider


@dataclass(frozen=True)
class ProviderSpec:
    """What Luma knows of one provider: how to build it from the runtime settings, the
    settings that are its own, the model it answers with, and its context window
    (None: large enough for `LUMA_PROMPT_TOKEN_BUDGET`)."""

    build: Callable[[RuntimeSettings], Provider]
    fields: tuple[str, ...]
    model: Callable[[RuntimeSettings], str]
    context_tokens: Callable[[], int | None] = lambda: None


PROVIDERS: dict[str, ProviderSpec] = {
    ProviderName.BUILTIN: ProviderSpec(
        build=lambda row: BuiltinProvider(),
        fields=(),
        model=lambda row: BUILTIN_MODEL_NAME,
        context_tokens=lambda: settings.LUMA_BUILTIN_CONTEXT,
    ),
    ProviderName.DEEPSEEK: ProviderSpec(
        build=lambda row: DeepSeekProvider(
            api_key=row.deepseek_api_key,
            # Rows saved before addresses were normalised may end in `/chat/completions`.
            base_url=address_normalised(base_url_normalise, row.deepseek_base_url),
            timeout=settings.LUMA_PROVIDER_TIMEOUT,
            embedding_model=row.deepseek_model,
        ),
        fields=("deepseek_api_key", "deepseek_base_url", "deepseek_model"),
        model=lambda row: row.deepseek_model,
    ),
    ProviderName.OLLAMA: ProviderSpec(
        build=lambda row: OllamaProvider(
            endpoint=row.ollama_endpoint,
            fallbacks=settings.LUMA_OLLAMA_FALLBACK_ENDPOINTS,
            timeout=settings.LUMA_PROVIDER_TIMEOUT,
            embedding_model=row.ollama_embedding_model,
        ),
        fields=("ollama_endpoint", "ollama_model", "ollama_embedding_model"),
        model=lambda row: row.ollama_model,
    ),
}


def provider_model(row: RuntimeSettings, name: str | None = None) -> str:
    """The model the provider the settings choose (or the one named) answers with."""
    return PROVIDERS[name or row.provider].model(row)


def provider_prompt_budget(row: RuntimeSettings) -> int:
    """Tokens a prompt may use with the chosen provider, leaving room for the reply."""
    context = PROVIDERS[row.provider].context_tokens()
    if context is None:
        return settings.LUMA_PROMPT_TOKEN_BUDGET
    return max(256, context - row.max_tokens)


_cache: dict[tuple[object, ...], Provider] = {}
_cache_lock = threading.Lock()


def provider_build(row: RuntimeSettings, name: str | None = None) -> Provider:
    """The provider the settings choose (or the one named), ready to call.

    Providers are reused while their own settings stay the same: building an HTTP
    client (its TLS context above all) costs more than a whole local request.
    """
    name = name or row.provider
    spec = PROVIDERS[name]
    key = (
        name,
        *(getattr(row, field) for field in spec.fields),
        settings.LUMA_PROVIDER_TIMEOUT,
        tuple(settings.LUMA_OLLAMA_FALLBACK_ENDPOINTS),
    )
    with _cache_lock:
        provider = _cache.get(key)
        if provider is None:
            provider = spec.build(row)
            if len(_cache) > 16:
                _cache.clear()
            _cache[key] = provider
    return provider


def chat_options_from(
    row: RuntimeSettings, *, json_mode: bool = False, provider: str | None = None
) -> ChatOptions:
    return ChatOptions(
        model=provider_model(row, provider),
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        json_mode=json_mode,
    )
