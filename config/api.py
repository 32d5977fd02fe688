"""The JSON API: one NinjaAPI, one error renderer, a router per app."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from chat.api import router as chat_router
from documents.api import router as documents_router
from luma.errors import LumaError
from luma.runtime_api import router as runtime_router
from luma.services import api_token_user
from luma.tokens_api import router as tokens_router
from memories.api import router as memory_router
from providers.api import router as providers_router


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer luma_…` with a token a user created."""

    def authenticate(self, request: HttpRequest, token: str) -> object | None:
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Luma API",
    version="1",
    description="Chat, memory, documents and settings of a Luma persona. "
    "Authenticate with a session cookie (plus CSRF token) or `Authorization: Bearer <token>`.",
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(LumaError)
def render_luma_error(request: HttpRequest, error: LumaError) -> HttpResponse:
    return api.create_response(
        request,
        {"message": error.message, "detail": error.detail, **error.context},
        status=error.status_code,
    )


@api.exception_handler(NinjaValidationError)
def render_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    problems = [
        f"{'.'.join(str(part) for part in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
        for e in error.errors
    ]
    return api.create_response(
        request,
        {"message": "Invalid request: " + "; ".join(problems), "detail": error.errors},
        status=422,
    )


api.add_router("/chat", chat_router, tags=["chat"])
api.add_router("/settings", runtime_router, tags=["settings"])
api.add_router("/models", providers_router, tags=["models"])
api.add_router("/memory", memory_router, tags=["memory"])
api.add_router("/tokens", tokens_router, tags=["tokens"])
api.add_router("/documents", documents_router, tags=["documents"])
