"""DeepSeek, or any server speaking OpenAI's chat-completions API, via `openai`."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import openai

from providers.base import (
    ChatMessage,
    ChatOptions,
    ChatStream,
    Provider,
    Reasoning,
    Usage,
    estimate_usage,
)
from providers.errors import (
    MalformedResponse,
    ProviderAuthError,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownModel,
)

logger = logging.getLogger(__name__)


@contextmanager
def _typed_errors(base_url: str, model: str) -> Iterator[None]:
    """Turn the client's exceptions into Luma's typed provider errors."""
    where = f"the OpenAI-compatible server at {base_url}"
    try:
        yield
    except openai.APITimeoutError as error:
        raise ProviderTimeout(f"{where} did not answer in time.", detail=str(error)) from error
    except openai.APIConnectionError as error:
        raise ProviderUnavailable(
            f"Could not reach {where}. Check the base URL and your connection.",
            detail=str(error),
        ) from error
    except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
        raise ProviderAuthError(
            "The DeepSeek API key was refused. Enter a valid key in Settings.",
            detail=_error_message(error),
        ) from error
    except openai.NotFoundError as error:
        raise UnknownModel(
            f"{where} has no model named {model!r}. Pick one of its models in Settings.",
            detail=_error_message(error),
        ) from error
    except openai.RateLimitError as error:
        raise ProviderUnavailable(
            f"{where} is rate-limiting requests or the account has no balance left.",
            detail=_error_message(error),
        ) from error
    except openai.APIStatusError as error:
        error_class = ProviderServerError if error.status_code >= 500 else ProviderError
        raise error_class(
            f"{where} answered with an error ({error.status_code}).",
            detail=_error_message(error),
        ) from error
    except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as error:
        raise MalformedResponse(
            f"{where} sent a reply Luma could not read.", detail=str(error)
        ) from error
    except (httpx.HTTPError, openai.APIError) as error:
        raise MalformedResponse(
            f"The connection to {where} broke off mid-reply.", detail=str(error)
        ) from error


def _error_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(error)


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
