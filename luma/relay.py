"""Run a blocking generator on a worker thread and receive its items in asyncio.

The conversation service blocks (on the database and on the model server), while
the web consumer and the Discord bot are asyncio code that must never block. A
`ThreadRelay` runs the generator on a thread of one shared pool and hands its
items over through an asyncio queue, in order; the generator's exception, if any,
is raised on the asyncio side after the items that came before it.

Replies spend their time waiting on the model server, so each gets a thread of its
own: asyncio's default pool (cores + 4) would queue all but a few. The pool size
is `LUMA_CHAT_REPLY_THREADS`, for every surface together.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

_pool = ThreadPoolExecutor(
    max_workers=settings.LUMA_CHAT_REPLY_THREADS, thread_name_prefix="luma-reply"
)


class _End:
    """Put on the queue after the last item."""


_END = _End()


class ThreadRelay(Generic[T]):
    """`produce(abandoned)` runs on a reply thread; `next()` gives its items here.

    `abandoned()` turns true once `abandon()` is called (the asyncio side gave up,
    e.g. the client went away), so the producer can stop early. Database
    connections are opened and closed on the worker thread, as Django needs.
    """

    def __init__(self, produce: Callable[[Callable[[], bool]], Iterator[T]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue()
        self._abandoned = threading.Event()
        self._worker = self._loop.run_in_executor(_pool, self._run, produce)

    def _run(self, produce: Callable[[Callable[[], bool]], Iterator[T]]) -> None:
        # Whatever fails here (the database included), the end is always announced:
        # the asyncio side then raises the failure instead of waiting for ever.
        try:
            close_old_connections()
            for item in produce(self._abandoned.is_set):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        finally:
            try:
                close_old_connections()
            finally:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def next(self, timeout: float | None = None) -> T | None:
        """The next item, or None after the last one (raising what the producer raised).

        Raises `TimeoutError` when no item comes within `timeout` seconds; nothing is
        lost, the item still comes with a later call.
        """
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if isinstance(item, _End):
            await self._worker
            return None
        return item

    def abandon(self) -> None:
        """Tell the producer nobody listens any more; a later failure of it is only logged."""
        self._abandoned.set()
        self._worker.add_done_callback(_retrieve_exception)


def _retrieve_exception(worker: "asyncio.Future[None]") -> None:
    if not worker.cancelled() and worker.exception() is not None:
        logger.info("A reply nobody waited for failed: %s", worker.exception())
