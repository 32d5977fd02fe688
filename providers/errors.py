"""Typed provider failures, each with a message a person can act on.

`retryable` tells callers (retries, fallback to another provider) whether
trying again could help; a bad key or an unknown model will not get better.
"""

from luma.errors import LumaError


class ProviderError(LumaError):
    status_code = 502
    retryable = False


class ProviderUnavailable(ProviderError):
    """The server did not answer at all."""

    status_code = 503
    retryable = True


class ProviderTimeout(ProviderError):
    status_code = 504
    retryable = True


class ProviderServerError(ProviderError):
    """The server answered with a 5xx: often gone a moment later."""

    retryable = True


class ProviderAuthError(ProviderError):
    pass


class UnknownModel(ProviderError):
    pass


class MalformedResponse(ProviderError):
    retryable = True


class ProviderNotInstalled(ProviderError):
    """The built-in model's runtime is missing from this installation."""


class ContextTooLong(ProviderError):
    """The prompt is longer than the model's context window (a 400 from the server)."""


class InsufficientBalance(ProviderError):
    """The account at the provider has no balance or quota left (402, or a 429 saying so)."""


class ProviderRateLimited(ProviderError):
    """A 429: the server will answer again shortly, so a retry or the fallback may help.

    Answered as the API's own 429, whose `message` says when to try again.
    """

    status_code = 429
    retryable = True


class WrongEndpoint(ProviderError):
    """A 404 for the route itself: something answers at the address, but not the API."""


class RequestRefused(ProviderError):
    """A 400 or 422 that is not about length: the server would not take what was sent."""
