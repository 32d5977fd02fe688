"""Luma's errors in OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`.

Clients of OpenAI-compatible servers read `error.message` (SillyTavern and Open WebUI
show it as it is) and act on the status: the official client retries 429 and 5xx,
and raises `AuthenticationError` for 401, `NotFoundError` for 404 and so on. So each
failure keeps the status Luma's API gives it, with the code OpenAI uses for the same
kind of trouble where there is one (`invalid_api_key`, `model_not_found`,
`rate_limit_exceeded`, `context_length_exceeded`, `insufficient_quota`).
"""

from typing import Any

from luma.errors import LumaError, PermissionDenied
from luma.ratelimit import RateLimited
from providers.errors import (
    ContextTooLong,
    EmptyReply,
    InsufficientBalance,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownModel,
)


class OpenAIRefusal(LumaError):
    """A refusal of this API with OpenAI's `type`, `code` and `param`."""

    error_type = "invalid_request_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code or self.code


class InvalidRequest(OpenAIRefusal):
    status_code = 400


class InvalidApiKey(OpenAIRefusal):
    status_code = 401
    code = "invalid_api_key"


class ModelNotFound(OpenAIRefusal):
    status_code = 404
    code = "model_not_found"


class RequestTooLarge(OpenAIRefusal):
    status_code = 413
    code = "request_too_large"


class UnknownUrl(OpenAIRefusal):
    status_code = 404
    code = "unknown_url"


class MethodNotAllowed(OpenAIRefusal):
    status_code = 405
    code = "method_not_allowed"


# Most specific first: the first class an error is an instance of gives its code.
_CODES: list[tuple[type[LumaError], str]] = [
    (RateLimited, "rate_limit_exceeded"),
    (ProviderRateLimited, "rate_limit_exceeded"),
    (PermissionDenied, "insufficient_permissions"),
    (ContextTooLong, "context_length_exceeded"),
    (InsufficientBalance, "insufficient_quota"),
    (ProviderAuthError, "provider_key_refused"),
    (UnknownModel, "provider_model_not_found"),
    (ProviderTimeout, "provider_timeout"),
    (ProviderUnavailable, "provider_unavailable"),
    (EmptyReply, "empty_reply"),
    (ProviderError, "provider_error"),
]


def _type_for(status: int) -> str:
    if status == 401:
        return "invalid_request_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_status(error: LumaError) -> int:
    """The HTTP status: the error's own, but a prompt too long for the model is the
    client's to shorten (400, as OpenAI answers it), not a server failure."""
    return 400 if isinstance(error, ContextTooLong) else error.status_code


def error_body(error: LumaError, *, owner: bool) -> dict[str, Any]:
    """The error as OpenAI writes it, worded for the token's account: the owner gets
    the advice only the owner can follow (a key, an address), others what they can do."""
    status = error_status(error)
    if isinstance(error, OpenAIRefusal):
        kind, code, param = error.error_type, error.code, error.param
    else:
        kind = _type_for(status)
        code = next((name for cls, name in _CODES if isinstance(error, cls)), None)
        param = None
    message = error.message_for(owner=owner)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
