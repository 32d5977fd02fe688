"""Per-user rate limits on what costs model time or disk: chat messages and uploads.

A fixed window counted in Django's cache: the local memory cache on one
machine, Redis (shared by every process) when REDIS_URL is set.
"""

import time

from django.conf import settings
from django.core.cache import cache

from luma.errors import LumaError


class RateLimited(LumaError):
    status_code = 429


def parse_rate(rate: str) -> tuple[int, int]:
    """'20/60' -> (20 requests, per 60 seconds)."""
    count, _, seconds = rate.partition("/")
    return int(count), int(seconds or 60)


def rate_limit_check(*, scope: str, who: str, rate: str) -> None:
    """Count one request by `who`; raise RateLimited past `rate` ('N/seconds')."""
    if not settings.LUMA_RATE_LIMITS_ENABLED:
        return
    limit, window = parse_rate(rate)
    bucket = int(time.time() // window)
    key = f"ratelimit:{scope}:{who}:{bucket}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        wait = window - int(time.time()) % window
        raise RateLimited(
            f"Slow down: at most {limit} {scope} requests per {window} seconds. "
            f"Try again in {wait} seconds."
        )
