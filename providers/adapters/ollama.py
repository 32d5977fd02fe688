"""Local models through an Ollama server, via the `ollama` client."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import ollama

from luma.endpoints import OLLAMA_HINT, address_normalised, ollama_endpoint_normalise
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
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.failures import Server, connect_reason, quoted, status_error, timeout_error

logger = logging.getLogger(__name__)

# Seconds to wait for /api/tags while probing endpoints: a live Ollama answers at once.
PROBE_TIMEOUT = 2.0


def _server(endpoint: str) -> Server:
    return Server(
        kind="Ollama server",
        address=endpoint,
        address_hint=OLLAMA_HINT,
        model_advice="Run `ollama pull {model}` on that server or pick another model in Settings.",
    )


@contextmanager
def _typed_errors(endpoint: str, model: str) -> Iterator[None]:
    """Turn the client's exceptions into Luma's typed provider errors, each worded for
    the person who has to fix it (see providers.failures)."""
    server = _server(endpoint)
    try:
        yield
    except ollama.ResponseError as error:
        raise _response_error(server, error, model) from error
    except httpx.TimeoutException as error:
        raise timeout_error(server, error) from error
    except (ConnectionError, httpx.ConnectError) as error:
        raise ProviderUnavailable(
            f"Could not reach {server.where}: {connect_reason(error)}. Start Ollama "
            "(`ollama serve`) or fix the endpoint in Settings.",
            detail=str(error),
        ) from error
    except (json.JSONDecodeError, ValueError, KeyError, TypeError) as error:
        raise MalformedResponse(
            f"{server.where_capitalised} sent a reply Luma could not read. Check that the "
            "endpoint points at Ollama itself.",
            detail=str(error),
        ) from error
    except httpx.HTTPError as error:
        raise MalformedResponse(
            f"The connection to {server.where} broke off mid-reply. Try again.",
            detail=str(error),
        ) from error


def _response_error(server: Server, error: ollama.ResponseError, model: str) -> ProviderError:
    """Ollama sends no key: a 401 or 403 comes from a proxy in front of it."""
    said = str(error.error or "")
    if error.status_code in {401, 403}:
        return ProviderAuthError(
            f"{server.where_capitalised} refused the request{quoted(said)}: Luma sends Ollama "
            "no key, so point the endpoint in Settings at Ollama itself or at a proxy that "
            "lets Luma in.",
            detail=said,
        )
    return status_error(server, error.status_code, said, model=model)


@dataclass(frozen=True)
class EndpointProbe:
    endpoint: str
    models: list[str] | None  # None when the endpoint did not answer as Ollama
    failure: ProviderError | None = None

    @property
    def error(self) -> str:
        return self.failure.message if self.failure else ""


def ollama_probe(endpoint: str) -> EndpointProbe:
    """Ask one endpoint for its models, quickly."""
    client = ollama.Client(host=endpoint, timeout=PROBE_TIMEOUT)
    try:
        with _typed_errors(endpoint, ""):
            listed = client.list()
    except ProviderError as error:
        return EndpointProbe(endpoint, None, error)
    return EndpointProbe(endpoint, sorted(m.model for m in listed.models if m.model))


def ollama_find_endpoint(configured: str, fallbacks: list[str]) -> EndpointProbe:
    """The configured endpoint if it answers, else the first fallback that does.

    Returns the configured endpoint's failed probe when none answers, so the
    error names what the user configured.
    """
    first = ollama_probe(configured)
    if first.models is not None:
        return first
    for endpoint in fallbacks:
        if endpoint.rstrip("/") == configured.rstrip("/"):
            continue
        probe = ollama_probe(endpoint)
        if probe.models is not None:
            logger.info("Ollama at %s did not answer; using %s", configured, endpoint)
            return probe
    return first


class OllamaProvider(Provider):
    name = "ollama"

    def __init__(
        self, *, endpoint: str, fallbacks: list[str], timeout: float, embedding_model: str
    ) -> None:
        # Rows saved before addresses were normalised may hold `/v1` or `/api/chat`.
        self.configured = address_normalised(ollama_endpoint_normalise, endpoint)
        self.fallbacks = [address_normalised(ollama_endpoint_normalise, f) for f in fallbacks]
        self.timeout = timeout
        self.embedding_model = embedding_model
        self._endpoint: str | None = None
        self._client_for: str | None = None
        self._client_cache: ollama.Client | None = None

    @property
    def endpoint(self) -> str:
        """The endpoint that answers, found once per provider instance."""
        if self._endpoint is None:
            probe = ollama_find_endpoint(self.configured, self.fallbacks)
            if probe.models is None:
                raise self._none_answered(probe)
            self._endpoint = probe.endpoint
        return self._endpoint

    def _none_answered(self, probe: EndpointProbe) -> ProviderError:
        """The configured endpoint's own error when a server there answered wrongly (a
        404: the address is wrong); else that nothing answered, and where Luma looked."""
        if probe.failure is not None and not isinstance(
            probe.failure, ProviderUnavailable | ProviderTimeout
        ):
            return probe.failure
        tried = ", ".join(dict.fromkeys([self.configured, *self.fallbacks]))
        return ProviderUnavailable(
            f"No Ollama server answered (tried {tried}). Start Ollama (`ollama serve`) or fix "
            "the endpoint in Settings.",
            detail=probe.error,
        )

    def _client(self) -> ollama.Client:
        endpoint = self.endpoint
        if self._client_for != endpoint:
            self._client_cache = ollama.Client(host=endpoint, timeout=self.timeout)
            self._client_for = endpoint
        return self._client_cache

    def stream_chat(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        try:
            yield from self._stream_chat(messages, options)
        except ProviderUnavailable:
            self._endpoint = None  # look for a live endpoint again next time
            raise

    def _stream_chat(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        client = self._client()
        chunks: list[str] = []
        usage: Usage | None = None
        with _typed_errors(self.endpoint, options.model):
            stream = client.chat(
                model=options.model,
                messages=messages,
                stream=True,
                format="json" if options.json_mode else None,
                options={"temperature": options.temperature, "num_predict": options.max_tokens},
            )
            finish_reason = "stop"
            for part in stream:
                message = part.message
                if message is not None and getattr(message, "thinking", None):
                    yield Reasoning(message.thinking)
                if message is not None and message.content:
                    chunks.append(message.content)
                    yield message.content
                if part.done:
                    finish_reason = part.done_reason or finish_reason
                    if part.eval_count is not None:
                        usage = Usage(part.prompt_eval_count or 0, part.eval_count)
        usage = usage or estimate_usage(messages, "".join(chunks))
        yield replace(usage, finish_reason=finish_reason)

    def list_models(self) -> list[str]:
        probe = ollama_find_endpoint(self.configured, self.fallbacks)
        if probe.models is None:
            # The configured endpoint's own error says best what is wrong there.
            raise probe.failure or self._none_answered(probe)
        self._endpoint = probe.endpoint
        return probe.models

    def embed(self, texts: list[str]) -> list[list[float]]:
        with _typed_errors(self.endpoint, self.embedding_model):
            response = self._client().embed(model=self.embedding_model, input=texts)
        return [list(vector) for vector in response.embeddings]
