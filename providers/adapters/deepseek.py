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
    except openai.APIError as error:  # an error event inside a streamed 200 (vLLM, llama.cpp)
        said = _error_message(error)
        raise status_error(server, -1, said, model=model, code=str(error.code or "")) from error
    except httpx.HTTPError as error:
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
        """Stream `POST /chat/completions` through the client's own request, SSE and error
        handling, reading each chunk as the JSON it is: building the client's typed chunk
        objects cost twice the CPU of the rest of a streamed reply (`bench/bench_load.py`)."""
        body: dict[str, object] = {
            "model": options.model,
            "messages": messages,
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if options.json_mode:
            body["response_format"] = {"type": "json_object"}
        usage: Usage | None = None
        chunks: list[str] = []
        finish_reason = "stop"
        with _typed_errors(self.base_url, options.model):
            stream = self.client.post(
                "/chat/completions",
                body=body,
                cast_to=object,
                stream=True,
                stream_cls=openai.Stream[object],
            )
            with stream:
                for chunk in stream:
                    usage = _chunk_usage(chunk) or usage
                    for choice in _chunk_choices(chunk):
                        finish_reason = choice.get("finish_reason") or finish_reason
                        delta = choice.get("delta") or {}
                        # Thinking sent apart: `reasoning_content` (DeepSeek's reasoner,
                        # LM Studio, older vLLM), `reasoning` (vLLM, OpenRouter).
                        thinking = delta.get("reasoning_content") or delta.get("reasoning")
                        if isinstance(thinking, str) and thinking:
                            yield Reasoning(thinking)
                        if text := delta.get("content"):
                            chunks.append(str(text))
                            yield str(text)
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


def _chunk_choices(chunk: object) -> list[dict]:
    """A streamed chunk's choices; ValueError (a malformed reply) when it has no such shape."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise ValueError(f"a streamed chunk without a list of choices: {str(chunk)[:200]}")
    return choices


def _chunk_usage(chunk: object) -> Usage | None:
    usage = chunk.get("usage") if isinstance(chunk, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
