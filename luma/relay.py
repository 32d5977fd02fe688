"""Run a blocking generator on a worker thread and receive its items in asyncio.

The conversation service blocks (on the database and on the model server), while
the web consumer and the Discord bot are asyncio code that must never block. A
`ThreadRelay` runs the generator on a thread of one shared pool and hands its
items over through an asyncio queue, in order; the generator's exception, if any,
is raised on the asyncio side after the items that came before it.

Replies spend their time waiting on the model server, so each gets a thread of its
own: asyncio's default pool (cores + 4) would queue all but a few. The pool size
is `LUMA_CHAT_REPLY_THREADS`, for every surface together.

Items are handed over in batches: the worker wakes the event loop once for all the
items that pile up before the loop gets to them, instead of once per token (each
wake-up is a write to the loop's self-pipe). Under load, `next_batch()` lets a
consumer send many tokens in one message.
"""

import asyncio
import logging
import threading
from collections import deque
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
        self._items: deque[T | _End] = deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._ready = asyncio.Event()
        self._taken: deque[T] = deque()  # a batch being given out one by one by next()
        self._ended = False
        self._failure_seen = False  # the producer's exception was raised by next_batch()
        self._abandoned = threading.Event()
        self._worker = self._loop.run_in_executor(_pool, self._run, produce)

    def _run(self, produce: Callable[[Callable[[], bool]], Iterator[T]]) -> None:
        # Whatever fails here (the database included), the end is always announced:
        # the asyncio side then raises the failure instead of waiting for ever.
        try:
            close_old_connections()
            for item in produce(self._abandoned.is_set):
                self._put(item)
        finally:
            try:
                close_old_connections()
            finally:
                self._put(_END)

    def _put(self, item: "T | _End") -> None:
        """On the worker: queue the item; wake the loop unless a wake-up is on its way."""
        with self._lock:
            self._items.append(item)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._loop.call_soon_threadsafe(self._ready.set)

    async def next_batch(self, timeout: float | None = None) -> list[T] | None:
        """Every item that has come (at least one), in order; None after the last one
        (raising what the producer raised). `TimeoutError` as for `next()`."""
        if self._taken:
            batch = list(self._taken)
            self._taken.clear()
            return batch
        while True:
            with self._lock:
                batch = list(self._items)
                self._items.clear()
                if not batch:
                    self._wake_pending = False
                    self._ready.clear()
            if batch:
                break
            if self._ended:
                self._failure_seen = True
                await self._worker  # raises what the producer raised
                return None
            await asyncio.wait_for(self._ready.wait(), timeout)
        if isinstance(batch[-1], _End):
            self._ended = True
            batch.pop()
            if not batch:
                return await self.next_batch(timeout)
        return batch  # type: ignore[return-value]

    async def next(self, timeout: float | None = None) -> T | None:
        """The next item, or None after the last one (raising what the producer raised).

        Raises `TimeoutError` when no item comes within `timeout` seconds; nothing is
        lost, the item still comes with a later call.
        """
        if not self._taken:
            batch = await self.next_batch(timeout)
            if batch is None:
                return None
            self._taken.extend(batch)
        return self._taken.popleft()

    def abandon(self) -> None:
        """Tell the producer nobody listens any more; a later failure of it is only logged
        (one that reached `next()` was the consumer's to report)."""
        self._abandoned.set()
        self._worker.add_done_callback(self._log_unseen_failure)

    def _log_unseen_failure(self, worker: "asyncio.Future[None]") -> None:
        failure = None if worker.cancelled() else worker.exception()  # retrieved either way
        if failure is not None and not self._failure_seen:
            logger.info("A reply nobody waited for failed: %s", failure)
