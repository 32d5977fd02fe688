"""Typed provider failures, each with a message a person can act on.

`retryable` tells callers (retries, fallback to another provider) whether
trying again could help; a bad key or an unknown model will not get better.
"""

from luma.errors import LumaError


class ProviderError(LumaError):
    status_code = 502
    retryable = False
    viewer_message = (
        "The model server failed. Try again in a moment; if it keeps failing, tell the owner."
    )


class ProviderUnavailable(ProviderError):
    """The server did not answer at all."""

    status_code = 503
    retryable = True
    viewer_message = (
        "The model server cannot be reached right now. Try again in a moment; if it keeps "
        "failing, tell the owner."
    )


class ProviderTimeout(ProviderError):
    status_code = 504
    retryable = True
    viewer_message = "The model server did not answer in time. Try again in a moment."


class ProviderServerError(ProviderError):
    """The server answered with a 5xx: often gone a moment later."""

    retryable = True


class ProviderAuthError(ProviderError):
    viewer_message = "The model server refused Luma's key: the owner has to enter a valid one."


class UnknownModel(ProviderError):
    viewer_message = "The persona's model is not available: the owner has to pick another one."


class MalformedResponse(ProviderError):
    retryable = True


class ProviderNotInstalled(ProviderError):
    """The built-in model's runtime is missing from this installation."""

    viewer_message = "The built-in model is not installed on this server: tell the owner."


class ContextTooLong(ProviderError):
    """The prompt is longer than the model's context window (a 400 from the server)."""

    viewer_message = "This conversation is too long for the model. Start a new conversation."


class InsufficientBalance(ProviderError):
    """The account at the provider has no balance or quota left (402, or a 429 saying so)."""

    viewer_message = "The model provider's account has run out of credit: tell the owner."


class ProviderRateLimited(ProviderError):
    """A 429: the server will answer again shortly, so a retry or the fallback may help.

    Answered as the API's own 429, whose `message` says when to try again.
    """

    status_code = 429
    retryable = True
    viewer_message = "The model server is busy (rate limit). Wait a minute and try again."


class WrongEndpoint(ProviderError):
    """A 404 for the route itself: something answers at the address, but not the API."""

    viewer_message = "The model server's address is set up wrong: tell the owner."


class RequestRefused(ProviderError):
    """A 400 or 422 that is not about length: the server would not take what was sent."""

    viewer_message = "The model server refused the request: tell the owner."


class EmptyReply(ProviderError):
    """The model answered nothing (or only thinking)."""

    viewer_message = "The model gave no answer this time. Try again."
