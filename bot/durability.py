"""The inbox's keeper in a running worker: heartbeats, replays what dead workers left, forgets old rows.

Every LEASE/3 the worker renews its claims on the updates it is handling;
every tick it takes the updates whose claim lapsed (a killed worker's, or
one whose handling failed) and feeds them to their platform again, oldest
first; once an hour it forgets rows handled days ago. At a graceful stop the
updates in hand may finish, then what is left goes to the other workers at
once (`Inbox.release`) instead of after the lease.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from core.infra.inbox import Inbox, Stale
from core.infra.offloop import off_loop

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 3600.0
Replayer = Callable[[Stale], Awaitable[None]]


class InboxKeeper:
    """Runs beside the platforms of one worker."""

    def __init__(self, inbox: Inbox, replayers: dict[str, Replayer]) -> None:
        self.inbox, self.replayers = inbox, replayers
        self.settlers: list[Callable[[float], Awaitable[None]]] = []
        self._pruned_at = 0.0

    @property
    def tick_s(self) -> float:
        return max(0.2, self.inbox.lease.total_seconds() / 3)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: a tick at once (what a crash left is handled at start), then every tick_s."""
        while not stop.is_set():
            try:
                await self.tick()
            except SQLAlchemyError as exc:  # the store is down: the platforms' doors say so; try again
                log.warning("inbox keeper: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.tick_s)
            except asyncio.TimeoutError:
                pass

    async def tick(self) -> int:
        """Heartbeat, replay the stale, prune now and then; how many updates were replayed."""
        await off_loop(self.inbox.heartbeat)
        replayed = 0
        if self.replayers:
            for stale in await off_loop(self.inbox.claim_stale, list(self.replayers)):
                try:
                    await self.replayers[stale.platform](stale)
                except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                    log.exception("inbox: replaying %s failed", stale.id)
                    await off_loop(self.inbox.give_back, stale.id, repr(exc))
                replayed += 1
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            await off_loop(self.inbox.prune)
        return replayed

    async def close(self, grace: float = 5.0) -> None:
        """A graceful stop: let what is in hand finish, then hand the rest to the other workers."""
        for settle in self.settlers:
            await settle(grace)
        try:
            released = await off_loop(self.inbox.release)
        except SQLAlchemyError:
            log.warning("inbox: could not release this worker's updates; they wait for the lease", exc_info=True)
            return
        if released:
            log.warning("inbox: %s updates left to the other workers", released)
