"""One reply at a time per conversation, across threads and server processes.

Two browser tabs, or two Discord viewers in one channel, may send at the same
instant. Each message is stored at once (nothing is lost); the replies are then
produced one after the other under a per-conversation lock, so every prompt
sees the previous reply and the history alternates user and assistant.

The lock is a cache key (`cache.add` is atomic in every Django cache backend:
an in-process lock with the default local-memory cache, `SET NX` on Redis), so
it also holds across web processes when `REDIS_URL` is set. It expires after
`LOCK_SECONDS`, so a process that dies holding it blocks no one for long.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.cache import cache

from luma.errors import LumaError

LOCK_SECONDS = 600  # longer than any reply: provider timeout times retries, and a fallback
POLL_SECONDS = 0.02


class TurnAbandoned(LumaError):
    """The person stopped (or left) while an earlier reply was still being written."""


@contextmanager
def conversation_turn(conversation_id: int, *, should_stop: Callable[[], bool]) -> Iterator[None]:
    """Hold the conversation's turn; wait (polling every 20 ms) while another reply has it.

    Raises `TurnAbandoned` when `should_stop()` turns true before the turn comes.
    """
    key = f"luma:conversation-turn:{conversation_id}"
    token = uuid.uuid4().hex
    while not cache.add(key, token, timeout=LOCK_SECONDS):
        if should_stop():
            raise TurnAbandoned("Stopped before the reply started.")
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)
