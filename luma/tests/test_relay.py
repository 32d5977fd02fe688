"""The thread relay: a blocking generator's items, in asyncio, in order."""

import asyncio
import threading
import time

import pytest

from luma.relay import ThreadRelay

# The relay opens and closes database connections on its threads, as Django needs.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def drain(relay: ThreadRelay) -> list:
    items = []
    while (item := await relay.next(timeout=10)) is not None:
        items.append(item)
    return items


async def test_items_arrive_in_order_and_the_error_after_them():
    def produce(abandoned):
        yield from ("a", "b", "c")
        raise ValueError("the model server broke")

    relay = ThreadRelay(produce)
    assert [await relay.next(timeout=10) for _ in range(3)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="broke"):
        await relay.next(timeout=10)


async def test_a_timeout_loses_no_item():
    def produce(abandoned):
        time.sleep(0.3)
        yield "late"

    relay = ThreadRelay(produce)
    with pytest.raises(TimeoutError):
        await relay.next(timeout=0.05)
    assert await drain(relay) == ["late"]


async def test_the_producer_learns_when_nobody_listens():
    seen = threading.Event()

    def produce(abandoned):
        yield "first"
        deadline = time.monotonic() + 5
        while not abandoned() and time.monotonic() < deadline:
            time.sleep(0.01)
        if abandoned():
            seen.set()
        yield "never read"

    relay = ThreadRelay(produce)
    assert await relay.next(timeout=10) == "first"
    relay.abandon()
    await asyncio.to_thread(seen.wait, 5)
    assert seen.is_set()


async def test_many_replies_wait_on_their_model_servers_at_once(settings):
    """agent-wiki PR #553, hermes-agent PR #101343: asyncio's default pool (cores + 4)
    would hold all but six; each reply gets a thread of the shared reply pool."""
    together = 12
    assert together <= settings.LUMA_CHAT_REPLY_THREADS
    barrier = threading.Barrier(together, timeout=5)

    def produce(abandoned):
        barrier.wait()  # breaks (BrokenBarrierError) unless all run at the same time
        yield "ok"

    relays = [ThreadRelay(produce) for _ in range(together)]
    assert await asyncio.gather(*(drain(relay) for relay in relays)) == [["ok"]] * together


async def test_a_failure_before_the_first_item_is_raised_not_waited_for(monkeypatch):
    """A pool thread whose database connection cannot be checked must not leave the
    chat waiting for ever (found when this suite hung)."""

    def broken() -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("luma.relay.close_old_connections", broken)
    relay = ThreadRelay(lambda abandoned: iter(["never"]))
    with pytest.raises(RuntimeError, match="database unavailable"):
        await relay.next(timeout=10)
