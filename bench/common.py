"""What every benchmark shares: results with their baseline and goal, stores, clocks."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.infra.store import Store, create_all

# Monday 30 November 2026, 10:00 in Moscow: the tests' fixed "now".
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


@dataclass
class Result:
    """One figure, the baseline it is compared with (measured in the same run) and its goal."""

    name: str
    figure: str
    baseline: str
    goal: str
    passed: bool | None  # None: context only, no goal
    note: str = ""

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else "PASS" if self.passed else "MISS"

    def print_goal(self) -> None:
        print(f"  goal: {self.goal:<52} {self.verdict}" + (f"  ({self.note})" if self.note else ""))


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").strip()
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def file_store(directory: Path, name: str) -> Store:
    """A fresh SQLite file store with every table, as `teamflow run` uses by default."""
    store = Store.from_url(f"sqlite:///{directory / name}")
    create_all(store.engine)
    return store


def checkpoint(store: Store) -> None:
    """Fold the WAL into the database file, as SQLite does on its own in a long-running process."""
    raw = store.engine.raw_connection()  # outside a transaction: the store begins every one IMMEDIATE
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


class ScaledClock:
    """The app's clock running `scale` times faster than real time, from `start`:
    a 1 s retry-after (a 1 s tick) then takes 1/scale real seconds, like the limits."""

    def __init__(self, start: datetime = NOW, scale: float = 1.0) -> None:
        self.start, self.scale, self.t0 = start, scale, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.scale)


def rss_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in KiB, from /proc/self/status."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found
