"""Calling the configured provider so that passing trouble does not reach the user.

Transient failures (server unreachable, 5xx, a stream that breaks before its
first chunk) are retried with exponential back-off; if the provider is still
down and a fallback provider is configured, the fallback answers instead.
Nothing is retried once text has been streamed: the user has seen it.
"""

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

from luma.models import RuntimeSettings
from providers.base import ChatMessage, Reasoning, Usage
from providers.errors import ProviderError, ProviderTimeout
from providers.registry import chat_options_from, provider_build, provider_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answering:
    """Yielded before a reply's first chunk: which provider and model answer it."""

    provider: str
    model: str
    fallback: bool = False


ReplyItem = str | Reasoning | Usage | Answering


def _attempts(
    row: RuntimeSettings, name: str, messages: list[ChatMessage], json_mode: bool, sleep: Callable
) -> Iterator[str | Reasoning | Usage]:
    """One provider, retried on transient errors until the first chunk arrives."""
    retries = settings.LUMA_PROVIDER_RETRIES
    for attempt in range(retries + 1):
        started = False
        try:
            provider = provider_build(row, name)
            options = chat_options_from(row, json_mode=json_mode, provider=name)
            for item in provider.stream(messages, options):
                started = True
                yield item
            return
        except ProviderError as error:
            # A timeout already cost a full wait; retrying it would multiply that.
            if started or not error.retryable or isinstance(error, ProviderTimeout):
                raise
            if attempt == retries:
                raise
            delay = settings.LUMA_PROVIDER_BACKOFF * (2**attempt) * (1 + random.random() / 4)
            logger.info("%s failed (%s); retrying in %.1fs", name, error.message, delay)
            sleep(delay)


def reply_stream(
    row: RuntimeSettings,
    messages: list[ChatMessage],
    *,
    json_mode: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ReplyItem]:
    """Stream a reply from the configured provider, or from the fallback when it is down.

    Yields one `Answering` first, then text chunks, then the `Usage`.
    """
    names = [row.provider]
    if row.fallback_provider and row.fallback_provider != row.provider:
        names.append(row.fallback_provider)
    for position, name in enumerate(names):
        answering = Answering(name, provider_model(row, name), fallback=position > 0)
        stream = _attempts(row, name, messages, json_mode, sleep)
        try:
            first = next(stream)
        except ProviderError as error:
            if not error.retryable or position == len(names) - 1:
                raise
            logger.warning("%s is down (%s); answering with %s", name, error.message, names[-1])
            continue
        yield answering
        yield first
        yield from stream
        return
