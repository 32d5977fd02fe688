"""Which provider to use is a setting: this turns the settings row into one."""

import threading
from collections.abc import Callable

from django.conf import settings

from luma.models import ProviderName, RuntimeSettings
from providers.adapters.builtin import BuiltinProvider
from providers.adapters.deepseek import DeepSeekProvider
from providers.adapters.ollama import OllamaProvider
from providers.base import ChatOptions, Provider


def _builtin(row: RuntimeSettings) -> Provider:
    return BuiltinProvider()


def _deepseek(row: RuntimeSettings) -> Provider:
    return DeepSeekProvider(
        api_key=row.deepseek_api_key,
        base_url=row.deepseek_base_url,
        timeout=settings.LUMA_PROVIDER_TIMEOUT,
        embedding_model=row.deepseek_model,
    )


def _ollama(row: RuntimeSettings) -> Provider:
    return OllamaProvider(
        endpoint=row.ollama_endpoint,
        fallbacks=settings.LUMA_OLLAMA_FALLBACK_ENDPOINTS,
        timeout=settings.LUMA_PROVIDER_TIMEOUT,
        embedding_model=row.ollama_embedding_model,
    )


PROVIDERS: dict[str, Callable[[RuntimeSettings], Provider]] = {
    ProviderName.BUILTIN: _builtin,
    ProviderName.DEEPSEEK: _deepseek,
    ProviderName.OLLAMA: _ollama,
}


_cache: dict[tuple[object, ...], Provider] = {}
_cache_lock = threading.Lock()


def provider_build(row: RuntimeSettings, name: str | None = None) -> Provider:
    """The provider the settings choose (or the one named), ready to call.

    Providers are reused while the settings stay the same: building an HTTP
    client (its TLS context above all) costs more than a whole local request.
    """
    name = name or row.provider
    key = (
        name,
        row.pk,
        row.updated_at,
        settings.LUMA_PROVIDER_TIMEOUT,
        tuple(settings.LUMA_OLLAMA_FALLBACK_ENDPOINTS),
    )
    with _cache_lock:
        provider = _cache.get(key)
        if provider is None:
            provider = PROVIDERS[name](row)
            if len(_cache) > 16:
                _cache.clear()
            _cache[key] = provider
    return provider


def chat_options_from(
    row: RuntimeSettings, *, json_mode: bool = False, provider: str | None = None
) -> ChatOptions:
    return ChatOptions(
        model=row.model_for(provider or row.provider),
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        json_mode=json_mode,
    )
