"""The fake Telegram Bot API (tests/fakes/telegram_api.py) in a child process.

Real Telegram does not spend our CPU answering our calls, so the benchmarks run
the fake in its own process on loopback: with the fake in the benchmark's own
event loop, its request parsing, HTML parsing and bookkeeping would be counted
as Teamflow's cost (and on a 2-core machine it would steal the same core).

    with FakeTelegramProcess(global_per_second=600) as fake:
        bot = make_bot(fake.token, fake.url)
        ...
        stats = fake.stats()   # accepted sends per chat, 429s, call counts
"""
from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from typing import Any


def _serve(conn, limits: dict[str, float | None]) -> None:
    from tests.fakes.telegram_api import FakeTelegram

    async def main() -> None:
        fake = FakeTelegram()
        await fake.start()
        if any(v is not None for v in limits.values()):
            fake.enforce_limits(**limits)
        conn.send((fake.url, fake.token))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stats":
                sends = [c for c in fake.calls if c.method == "sendMessage"]
                refused = {id(c) for c in fake.rejected}
                accepted = Counter(c.params.get("chat_id") for c in sends if c.ok)
                conn.send({
                    "accepted_per_chat": dict(accepted),
                    "rejected_429": len(fake.rejected),
                    "rejected_chats": sorted({c.params.get("chat_id") for c in fake.rejected}),
                    "other_errors": sum(1 for c in sends if not c.ok and id(c) not in refused),
                    "first_accept": min((c.at for c in sends if c.ok), default=None),
                    "last_accept": max((c.at for c in sends if c.ok), default=None),
                    "calls": dict(Counter(c.method for c in fake.calls)),
                })
            elif command == "stop":
                await fake.stop()
                conn.send("stopped")
                return

    asyncio.run(main())


class FakeTelegramProcess:
    """Start the fake in a spawned process; `url`/`token` for the Bot, `stats()` at the end."""

    def __init__(self, *, per_chat_per_second: float | None = None, global_per_second: float | None = None):
        self.limits = {"per_chat_per_second": per_chat_per_second, "global_per_second": global_per_second}
        self.url = self.token = ""

    def __enter__(self) -> "FakeTelegramProcess":
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, self.limits), daemon=True)
        self._process.start()
        for _ in range(600):
            if self._conn.poll(0.1) or not self._process.is_alive():
                break
        if not self._conn.poll(0):
            self._process.terminate()
            raise RuntimeError("the fake Telegram did not start (see the error above)")
        self.url, self.token = self._conn.recv()
        return self

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        return self._conn.recv()

    def __exit__(self, *exc) -> None:
        try:
            self._conn.send("stop")
            self._conn.poll(10) and self._conn.recv()
        finally:
            self._process.join(10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5)
