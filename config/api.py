"""The JSON API: one NinjaAPI, one error body, a router per app.

Every refusal has one body, `ErrorOut`, and the OpenAPI schema lists every status an
operation can answer with, so a generated client knows them all. Most follow from an
operation's shape (authenticated: 401 and 403; a body: 400 and 413; input: 422; a path
parameter: 404); what only its services know is in `SERVICE_ERRORS`.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.security import HttpBearer, django_auth

from chat.api import router as chat_router
from documents.api import router as documents_router
from luma.errors import LumaError
from luma.roles import is_owner
from luma.runtime_api import router as runtime_router
from luma.schemas import ErrorOut
from luma.services import api_token_user
from luma.tokens_api import router as tokens_router
from memories.api import router as memory_router
from overlay.api import router as stream_router
from persona.api import router as persona_router
from providers.api import router as providers_router


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer luma_…` with a token a user created."""

    def authenticate(self, request: HttpRequest, token: str) -> object | None:
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


ERROR_DESCRIPTIONS = {
    400: "The body does not parse, or a service refused a value (see `message`)",
    401: "No valid session or bearer token",
    403: "Your role may not do this, or the CSRF check failed (session authentication)",
    404: "No such object, or none you may see",
    409: "The object's current state does not allow it",
    413: "The upload, or the request body, is too large",
    415: "The upload is not a supported type",
    422: "The input does not match its schema, or the document cannot be read",
    429: "Too many requests: `message` says when to try again",
    502: "The model provider failed; `conversation_id` and `user_message_id` say what to resend",
    503: "The model provider could not be reached",
    504: "The model provider did not answer in time",
}

# Statuses that only an operation's services know of, by "METHOD path" under the API root.
SERVICE_ERRORS: dict[str, set[int]] = {
    # a conversation_id not yours; LUMA_CHAT_RATE; ProviderError
    "POST /chat": {404, 429, 502, 503, 504},
    # not your conversation; not its last incomplete reply; LUMA_CHAT_RATE; ProviderError
    "POST /chat/conversations/{conversation_id}/messages/{message_id}/continue": {
        400,
        404,
        429,
        502,
        503,
        504,
    },
    # not your conversation; not its last reply (or the greeting); LUMA_CHAT_RATE; ProviderError
    "POST /chat/conversations/{conversation_id}/messages/{message_id}/regenerate": {
        400,
        404,
        429,
        502,
        503,
        504,
    },
    # not your message; empty text; LUMA_CHAT_RATE; ProviderError
    "POST /chat/conversations/{conversation_id}/messages/{message_id}/edit": {
        400,
        404,
        429,
        502,
        503,
        504,
    },
    # not a reply; a reply being written in the conversation (chat.actions)
    "POST /chat/conversations/{conversation_id}/messages/{message_id}/select": {400, 409},
    "DELETE /chat/conversations/{conversation_id}/messages/{message_id}": {409},
    "PATCH /chat/conversations/{conversation_id}": {400},  # an empty title
    # the settings row is first made from the environment, which may hold a bad value
    "GET /settings": {400},
    "GET /stream/settings": {400},
    "GET /models/available": {400},
    "GET /memory/search": {400},  # an unknown `subject`
    "POST /memory/suggest": {404, 409},  # the suggestion `id`; reviewed already
    "POST /memory/{memory_id}/reject": {409},
    # ids not yours to review; decided already (memories.review)
    "POST /memory/suggestions/review": {404, 409},
    "POST /memory/suggestions/undo": {404, 409},
    "POST /documents": {409, 413, 415, 429},  # see documents.errors; LUMA_UPLOAD_RATE
    "POST /persona/card": {415},  # neither PNG nor JSON (persona.cards)
}


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """Every error status `operation` (its OpenAPI dict) can answer with."""
    statuses = set(SERVICE_ERRORS.get(f"{method.upper()} {path}", ()))
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if operation.get("requestBody"):
        statuses |= {400, 413}
    if parameters or operation.get("requestBody"):
        statuses.add(422)
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.add(404)
    return statuses


class LumaAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"]["schemas"]["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template=REF_TEMPLATE, mode="serialization"
        )
        error = {
            self.renderer.media_type: {"schema": {"$ref": REF_TEMPLATE.format(model="ErrorOut")}}
        }
        root = schema.path_prefix.rstrip("/")
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                for status in sorted(error_statuses(method, path.removeprefix(root), operation)):
                    operation["responses"].setdefault(
                        status, {"description": ERROR_DESCRIPTIONS[status], "content": error}
                    )
        return schema

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        """Ninja's URLs, then a JSON 404 for any other path under the API: a path
        parameter that is not an int (`/api/memory/abc`) misses every pattern."""
        patterns, app_name, namespace = super().urls
        any_path = re_path(r"^[\s\S]*$", csrf_exempt(self._path_unknown))  # newlines too
        return [*patterns, any_path], app_name, namespace

    def _path_unknown(self, request: HttpRequest) -> HttpResponse:
        return error_response(request, 404, f"Nothing at {request.path}.")


api = LumaAPI(
    title="Luma API",
    version="1",
    description="Chat, memory, documents and settings of a Luma persona. "
    "Authenticate with a session cookie (plus CSRF token) or `Authorization: Bearer <token>`.",
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
)


def error_response(
    request: HttpRequest, status: int, message: str, detail: Any = "", **context: Any
) -> HttpResponse:
    """An `ErrorOut` body: every refusal of the API goes out through here."""
    return api.create_response(
        request, {"message": message, "detail": detail, **context}, status=status
    )


@api.exception_handler(LumaError)
def render_luma_error(request: HttpRequest, error: LumaError) -> HttpResponse:
    """The error's sentence for this person (the owner's advice only for the owner)."""
    message = error.message_for(owner=is_owner(getattr(request, "user", None)))
    return error_response(request, error.status_code, message, error.detail, **error.context)


@api.exception_handler(HttpError)
def render_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """Ninja's own refusals (no credentials: 401; a failed CSRF check: 403)."""
    message = (
        "Log in, or send `Authorization: Bearer <token>` with a token from /api/tokens."
        if isinstance(error, AuthenticationError)
        else str(error)
    )
    return error_response(request, error.status_code, message, str(error))


def render_unreadable_body(request: HttpRequest, error: Exception) -> HttpResponse:
    """Django refuses these bodies while ninja reads them; it would answer with HTML."""
    if isinstance(error, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(request, 413, f"The request body is over {limit} bytes.")
    return error_response(request, 400, "The request body cannot be read.", str(error))


api.add_exception_handler(RequestDataTooBig, render_unreadable_body)
api.add_exception_handler(MultiPartParserError, render_unreadable_body)


@api.exception_handler(NinjaValidationError)
def render_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    problems = [
        f"{'.'.join(str(part) for part in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
        for e in error.errors
    ]
    return error_response(request, 422, "Invalid request: " + "; ".join(problems), error.errors)


api.add_router("/chat", chat_router, tags=["chat"])
api.add_router("/settings", runtime_router, tags=["settings"])
api.add_router("/models", providers_router, tags=["models"])
api.add_router("/memory", memory_router, tags=["memory"])
api.add_router("/tokens", tokens_router, tags=["tokens"])
api.add_router("/documents", documents_router, tags=["documents"])
api.add_router("/stream", stream_router, tags=["stream"])
api.add_router("/persona", persona_router, tags=["persona"])
