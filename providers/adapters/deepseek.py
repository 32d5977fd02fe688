"""DeepSeek, or any server speaking OpenAI's chat-completions API, via `openai`."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import openai

from luma.endpoints import BASE_URL_HINT
from providers.base import (
    ChatMessage,
    ChatOptions,
    ChatStream,
    Provider,
    Reasoning,
    Usage,
    estimate_usage,
)
from providers.errors import MalformedResponse, ProviderAuthError, ProviderUnavailable
from providers.failures import Server, connect_reason, quoted, status_error, timeout_error

logger = logging.getLogger(__name__)


@contextmanager
def _typed_errors(base_url: str, model: str) -> Iterator[None]:
    """Turn the client's exceptions into Luma's typed provider errors, each worded for
    the person who has to fix it (see providers.failures)."""
    server = Server(
        kind="OpenAI-compatible server",
        address=base_url,
        address_hint=BASE_URL_HINT,
        model_advice="Pick one of its models in Settings (Test connection lists them).",
    )
    try:
        yield
    except openai.APITimeoutError as error:
        raise timeout_error(server, error) from error
    except openai.APIConnectionError as error:
        raise ProviderUnavailable(
            f"Could not reach {server.where}: {connect_reason(error)}. Check the base URL in "
            "Settings and that the server is running.",
            detail=str(error),
        ) from error
    except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
        said = _error_message(error)
        raise ProviderAuthError(
            f"The API key was refused by {server.where}{quoted(said)}. Enter a valid key in "
            "Settings.",
            detail=said,
        ) from error
    except openai.APIStatusError as error:
        raise status_error(
            server,
            error.status_code,
            _error_message(error),
            model=model,
            url=str(error.request.url),
            code=error.code or "",
        ) from error
    except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as error:
        raise MalformedResponse(
            f"{server.where_capitalised} sent a reply Luma could not read. Check that the base "
            "URL points at an OpenAI-compatible API.",
            detail=str(error),
        ) from error
    except (httpx.HTTPError, openai.APIError) as error:
        raise MalformedResponse(
            f"The connection to {server.where} broke off mid-reply. Try again.",
            detail=str(error),
        ) from error


def _error_message(error: openai.APIStatusError) -> str:
    """The server's own message: `{"error": {"message": …}}` (OpenAI, DeepSeek, vLLM),
    `{"error": "…"}` or `{"detail": …}` (other compatible servers), or the raw body."""
    body = error.body
    if isinstance(body, dict):
        found = body.get("message") or body.get("error") or body.get("detail") or body
        if isinstance(found, dict):
            found = found.get("message") or found
        return str(found)
    if isinstance(body, str) and body.strip() and not body.lstrip().startswith("<"):
        return body.strip()
    return error.response.reason_phrase or error.message  # an HTML page: the status name


class DeepSeekProvider(Provider):
    name = "deepseek"

    def __init__(
        self, *, api_key: str, base_url: str, timeout: float, embedding_model: str = ""
    ) -> None:
        if not api_key:
            raise ProviderAuthError("No DeepSeek API key is set. Enter one in Settings.")
        self.base_url = base_url
        self.embedding_model = embedding_model
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    def stream_chat(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        extra = {"response_format": {"type": "json_object"}} if options.json_mode else {}
        usage: Usage | None = None
        chunks: list[str] = []
        finish_reason = "stop"
        with _typed_errors(self.base_url, options.model):
            stream = self.client.chat.completions.create(
                model=options.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=options.temperature,
                max_tokens=options.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        finish_reason = choice.finish_reason or finish_reason
                        if choice.delta is None:
                            continue
                        # DeepSeek's reasoner (and vLLM, LM Studio) send thinking apart.
                        thinking = getattr(choice.delta, "reasoning_content", None)
                        if thinking:
                            yield Reasoning(thinking)
                        if choice.delta.content:
                            chunks.append(choice.delta.content)
                            yield choice.delta.content
        usage = usage or estimate_usage(messages, "".join(chunks))
        yield replace(usage, finish_reason=finish_reason)

    def list_models(self) -> list[str]:
        with _typed_errors(self.base_url, ""):
            return sorted(model.id for model in self.client.models.list())

    def embed(self, texts: list[str]) -> list[list[float]]:
        with _typed_errors(self.base_url, self.embedding_model):
            response = self.client.embeddings.create(
                model=self.embedding_model, input=texts, encoding_format="float"
            )
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
