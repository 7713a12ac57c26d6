"""Lanes: many queues, each drained in order by its own task, their calls sharing a few slots;
and a ledger that writes what the lanes report in shared transactions (group commit).

Delivery (core/infra/delivery.py) runs a lane per destination: one chat's notices in
order, many chats at once. Nothing here knows about notices or platforms.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, AsyncIterator, Callable, Coroutine, Generic, Hashable, TypeVar

from core.infra.offloop import off_loop

E = TypeVar("E")  # what a lane asks the ledger to write
R = TypeVar("R")  # what the write answers it
# Before each transaction the ledger waits this long for more to write (like PostgreSQL's
# commit_delay): at hundreds of calls a second it halves the transactions, for 2 ms a notice.
GATHER_S = 0.002


class Ledger(Generic[E, R]):
    """Group commit: what the lanes ask to write goes into the next transaction; while one runs
    on its database thread, what arrives meanwhile waits for the one after it. One writer, so
    the lanes never wait for each other's locks, and 30 marks cost one UPDATE, not 30.

    `write(entries)` runs on a database thread and answers one result per entry, in order."""

    def __init__(self, write: Callable[[list[E]], list[R]]) -> None:
        self._write = write
        self._waiting: list[tuple[E, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def write(self, entry: E) -> R:
        """Write the entry with whatever else waits; its result once committed."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, future))
        if self._task is None:
            self._task = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        """Transactions back to back until nothing waits."""
        try:
            while self._waiting:
                await asyncio.sleep(GATHER_S)
                taken, self._waiting = self._waiting, []
                try:
                    results = await off_loop(self._write, [entry for entry, _ in taken])
                except Exception as exc:  # each lane that asked hears of it
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(taken, results):
                    if not future.done():  # (a lane cancelled meanwhile no longer waits)
                        future.set_result(result)
        finally:
            self._task = None


class Lanes(Generic[E, R]):
    """One event loop's lanes: a queue per key, the task draining each, the slots their calls
    share, the ledger they write through, and how many items they hold."""

    def __init__(self, loop: asyncio.AbstractEventLoop, slots: int, write: Callable[[list[E]], list[R]]) -> None:
        self.loop = loop
        self.queues: dict[Hashable, deque] = {}
        self.tasks: set[asyncio.Task] = set()
        self.slots = asyncio.Semaphore(slots)
        self.ledger: Ledger[E, R] = Ledger(write)
        self.held = 0  # items queued or in flight
        self.waiting = 0  # lanes waiting for a slot
        self._changed = asyncio.Event()

    def add(self, key: Hashable, item: Any, lane: Callable[[Hashable, deque], Coroutine]) -> None:
        """Queue an item behind those with the same key; start `lane(key, queue)` where none runs
        (the lane removes its queue when it ends)."""
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = deque()
            task = asyncio.create_task(lane(key, queue))
            self.tasks.add(task)  # referenced until it ends
            task.add_done_callback(self.tasks.discard)
        queue.append(item)
        self.held += 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots (FIFO); `waiting` counts the lanes queued for one meanwhile."""
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()

    def done(self, count: int) -> None:
        """`count` items left the lanes (handled, handed back or abandoned)."""
        if count:
            self.held -= count
            self._changed.set()

    async def room(self, limit: int) -> None:
        """Until the lanes hold fewer than `limit` items."""
        while self.held >= limit:
            self._changed.clear()
            await self._changed.wait()

    async def settle(self) -> None:
        """Until every lane has ended."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self, grace: float) -> None:
        """Let the lanes run for `grace` seconds more, then cancel what still runs."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)
        for task in list(self.tasks):
            task.cancel()
