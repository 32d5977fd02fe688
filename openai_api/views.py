"""`/v1/chat/completions` and `/v1/models`: OpenAI's wire format in front of Luma.

Plain Django views, not the ninja API: the paths, the bodies, the error shape and the
authentication (bearer tokens only, never a session, so no CSRF) are OpenAI's. The
completion runs on a reply thread (`luma.relay.ThreadRelay`, shared with the web chat
and Discord); the view waits for its first text before answering, so that every
failure before the reply (rate limit, unknown model, provider down) gets its own
status code, and then streams server-sent events as OpenAI does. A client that hangs
up stops the reply, which is kept as stopped.

Browser apps (airi's web stage) call these from another origin: every answer allows
any origin. That is safe because only a bearer token authenticates, never a cookie.
"""

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from luma.errors import LumaError
from luma.relay import ThreadRelay
from luma.roles import is_owner
from luma.services import runtime_settings_get
from openai_api.errors import (
    InvalidRequest,
    MethodNotAllowed,
    ModelNotFound,
    RequestTooLarge,
    UnknownUrl,
    error_body,
)
from openai_api.errors import error_status as status_of
from openai_api.schemas import ChatCompletionIn
from openai_api.services import (
    CompletionEnd,
    account_for_token,
    completion_stream,
    models_listed,
    speaker_named,
)
from providers.base import Usage

logger = logging.getLogger(__name__)

ALLOWED_HEADERS = "Authorization, Content-Type, X-Luma-Speaker, X-Luma-Speaker-Name"


def _cors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        asked = request.headers.get("Access-Control-Request-Headers", "")
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = asked or ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = "86400"
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            # Chrome asks before a public page (airi.moeru.ai) calls a Luma on this network.
            response["Access-Control-Allow-Private-Network"] = "true"
    return response


def _error(request: HttpRequest, error: LumaError, *, owner: bool = False) -> HttpResponse:
    response = JsonResponse(error_body(error, owner=owner), status=status_of(error))
    return _cors(response, request)


def _server_error(request: HttpRequest) -> HttpResponse:
    logger.exception("The OpenAI-compatible endpoint failed")
    body = {
        "error": {
            "message": "Luma failed while answering; its log says why. Try again.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    return _cors(JsonResponse(body, status=500), request)


def _read_body(request: HttpRequest) -> bytes:
    """The body, up to `LUMA_MAX_UPLOAD_BYTES`: images arrive inline (base64) and are
    dropped, but a photo is over the 2 MB Django reads for other requests
    (`LUMA_MAX_REQUEST_BYTES`), and the client must not get an HTML error for it."""
    limit = settings.LUMA_MAX_UPLOAD_BYTES
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise RequestTooLarge(
            f"The request body is over {limit} bytes (LUMA_MAX_UPLOAD_BYTES). Send fewer or "
            "smaller images: Luma reads only the text of a message.",
            param="messages",
        )
    return raw


def _parse(raw: bytes) -> ChatCompletionIn:
    try:
        data = json.loads(raw or b"null")
    except ValueError as error:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({error}). Send a JSON object."
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return ChatCompletionIn.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        param = ".".join(str(part) for part in first.get("loc", ())) or None
        raise InvalidRequest(f"{param or 'body'}: {first.get('msg')}", param=param) from None


@dataclass(frozen=True)
class _Completion:
    """What every chunk of one answer repeats, and who asked (for error wording)."""

    id: str
    created: int
    model: str
    include_usage: bool
    owner: bool

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [choice],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def usage_chunk(self, usage: Usage) -> dict[str, Any]:
        return {**self.chunk({}), "choices": [], "usage": _usage(usage)}


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    owner = False
    try:
        if request.method != "POST":
            raise MethodNotAllowed("Use POST for /v1/chat/completions.")
        authorization = request.headers.get("Authorization", "")
        account = await sync_to_async(account_for_token)(authorization)
        owner = is_owner(account)
        body = _parse(_read_body(request))
        ref = speaker_named(body=body, headers=request.headers)
    except LumaError as error:
        return _error(request, error, owner=owner)

    relay: ThreadRelay[str | CompletionEnd] = ThreadRelay(
        lambda should_stop: completion_stream(
            account=account, body=body, speaker_ref=ref, should_stop=should_stop
        )
    )
    meta = _Completion(
        f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), body.model, body.include_usage, owner
    )
    try:
        first = await relay.next_batch()
        if not body.stream:
            items = list(first or [])
            while (batch := await relay.next_batch()) is not None:
                items += batch
            return _cors(JsonResponse(_whole_completion(meta, items)), request)
    except LumaError as error:
        return _error(request, error, owner=owner)
    except BaseException as error:
        relay.abandon()  # the client went away (cancelled), or Luma failed
        if isinstance(error, Exception):
            return _server_error(request)
        raise
    response = StreamingHttpResponse(_events(relay, first, meta), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return _cors(response, request)


def _whole_completion(meta: _Completion, items: list[str | CompletionEnd]) -> dict[str, Any]:
    end = next(item for item in items if isinstance(item, CompletionEnd))
    text = "".join(item for item in items if isinstance(item, str))
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": end.finish_reason,
            }
        ],
        "usage": _usage(end.usage),
    }


async def _events(
    relay: ThreadRelay[str | CompletionEnd],
    first: list[str | CompletionEnd] | None,
    meta: _Completion,
) -> AsyncIterator[bytes]:
    """The reply as OpenAI streams it: a role chunk, text chunks, a chunk with the
    finish reason, the usage chunk (empty `choices`) when asked for, `[DONE]`. A failure
    after the first text ends the stream with an `error` event, as OpenAI's does."""
    finished = False
    try:
        yield _sse(meta.chunk({"role": "assistant", "content": ""}))
        batch = first
        while batch is not None:
            text = ""
            for item in batch:
                if isinstance(item, str):
                    text += item
                    continue
                if text:
                    yield _sse(meta.chunk({"content": text}))
                    text = ""
                yield _sse(meta.chunk({}, finish_reason=item.finish_reason))
                if meta.include_usage:
                    yield _sse(meta.usage_chunk(item.usage))
            if text:
                yield _sse(meta.chunk({"content": text}))
            batch = await relay.next_batch()
        finished = True
        yield b"data: [DONE]\n\n"
    except LumaError as error:
        finished = True
        yield _sse(error_body(error, owner=meta.owner))
    except Exception:
        finished = True
        logger.exception("The OpenAI-compatible stream failed")
        yield _sse({"error": {"message": "Luma failed while answering.", "type": "server_error",
                              "param": None, "code": None}})  # fmt: skip
    finally:
        if not finished:
            relay.abandon()  # the client hung up: the reply stops and is kept as stopped


def _models_view(request: HttpRequest) -> tuple[list[tuple[str, str]], bool]:
    account = account_for_token(request.headers.get("Authorization", ""))
    return models_listed(runtime_settings_get()), is_owner(account)


def _model_out(name: str, owner: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": owner}


@csrf_exempt
def models(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    try:
        if request.method != "GET":
            raise MethodNotAllowed("Use GET for /v1/models.")
        listed, _ = _models_view(request)
    except LumaError as error:
        return _error(request, error)
    data = [_model_out(name, owner) for name, owner in listed]
    return _cors(JsonResponse({"object": "list", "data": data}), request)


@csrf_exempt
def model_detail(request: HttpRequest, model_id: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    owner = False
    try:
        if request.method != "GET":
            raise MethodNotAllowed(f"Use GET for /v1/models/{model_id}.")
        listed, owner = _models_view(request)
        found = next(((n, o) for n, o in listed if n == model_id), None)
        if found is None:
            names = ", ".join(f"`{name}`" for name, _ in listed)
            raise ModelNotFound(
                f"The model `{model_id}` does not exist on this Luma. Use {names}.", param="model"
            )
    except LumaError as error:
        return _error(request, error, owner=owner)
    return _cors(JsonResponse(_model_out(*found)), request)


@csrf_exempt
def unknown(request: HttpRequest, path: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    error = UnknownUrl(
        f"Luma has no /v1/{path}: it serves POST /v1/chat/completions, GET /v1/models and "
        "GET /v1/models/{model}."
    )
    return _error(request, error)
