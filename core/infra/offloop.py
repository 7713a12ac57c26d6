"""Database work off the event loop: each unit of work runs on a worker thread.

The adapters (aiogram, bolt, the web server) and the outbox are asyncio code;
the core is synchronous SQLModel code, one session per use case. A use case
run inside a coroutine blocks the loop for as long as it takes, and on SQLite
for as long as it waits for the write lock (up to the 30 s busy timeout): every
other update, every acknowledgement, /healthz and the outbox wait with it.
`await off_loop(fn, *args)` runs the whole unit of work on a thread instead,
the loop free meanwhile.

Why threads and not SQLAlchemy's async engine (`create_async_engine`,
aiosqlite, psycopg async): the async engine needs every use case rewritten as
coroutines with `await` at each query, and no lazy load anywhere; aiosqlite
itself runs each SQLite call on a thread. A thread per unit of work keeps the
core as it is, keeps the transaction boundary where it is (the use case), and
is the asyncio way to call blocking code (`run_in_executor`, what
`asyncio.to_thread` does, on a pool of our own).

Short reads that others wait on (the member lookup before a Slack ack,
/healthz) go through `off_loop_read`, on threads of their own: in a burst the
units of work queue by the hundred, and a FIFO pool would put an
acknowledgement or a health check behind all of them.

Sizing: DB_THREADS stays under the engine's pool (SQLAlchemy's QueuePool: 5
connections + 10 overflow, on SQLite files and PostgreSQL alike), so a thread
never waits for a connection. On SQLite only one of them writes at a time (the
store queues the rest in order); the others read meanwhile (WAL). On
PostgreSQL they are concurrent transactions.

What crosses back to the loop are plain values (core.presentation.messages.Message, ids,
sheets); ORM objects that do (a Person for a messenger) come from sessions
opened with expire_on_commit=False and have every column loaded, so nothing
lazy-loads on the loop after their session closed.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")
DB_THREADS = 6
READ_THREADS = 2  # 6 + 2 stay under the pool's 15 connections even if a unit of work nests a read

_pool = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="teamflow-db")
_reads = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="teamflow-db-read")


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` on a database thread and await its result (context variables follow)."""
    return await _run(_pool, fn, *args, **kwargs)


async def off_loop_read(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """The same for a short read that an acknowledgement or a health check waits on: never queued
    behind units of work."""
    return await _run(_reads, fn, *args, **kwargs)


async def _run(pool: ThreadPoolExecutor, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)
