"""Sweep: find and claim 1 000 due reminders among 10 000 tasks and among 1 000 000.

Each task has one reminder row. Exactly 1 000 are pending and due (spread over
the whole id range); of the others, half were sent in the past (what a store
that has run for months is mostly made of) and half are pending in the future.

Measured in turns, small and big store alternately (median; state reset in between):
* tick: `reminders.tick` until nothing is due — claim, mark sent, one outbox
  row each, committed: the scheduler's real work. This is the figure with the goal.
* claim_due: the claiming query alone (limit 1 000, ORM objects built), rolled
  back. Context: about 12 ms of it is building 1 000 ORM objects at any size;
  the SQL part is what grows when the 1 000 due rows sit on 1 000 different
  pages (SQLite's default 2 MB page cache then re-reads them every sweep).
Baseline: the same at 10 000 tasks. Goal: big / small < 1.5 (cost grows with
what is due, not with what is stored).

Rows are written with SQLAlchemy core `insert()` executemany (not the ORM), in
chunks, and the WAL is checkpointed before measuring. BENCH_SWEEP_BIG sets the
big size (default 1 000 000).
"""
from __future__ import annotations

import gc
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, insert, update
from sqlmodel import func, select

from bench.common import NOW, Result, checkpoint, env_int, file_store
from core.domain.clock import to_db
from core.domain.models import Outbox, Person, Reminder, Task
from core.services import reminders

SMALL = 10_000
BIG = env_int("BENCH_SWEEP_BIG", 1_000_000)
DUE = 1_000
REPEATS = 5         # ticks per size (median), taken in turns
CLAIM_REPEATS = 5   # claim_due queries per turn (median of REPEATS x CLAIM_REPEATS)
CHUNK = 50_000
PEOPLE = 50


def populate(store, tasks: int) -> float:
    """Tasks, one reminder each, exactly DUE of them pending and due at NOW; returns seconds spent."""
    start = time.perf_counter()
    task_table, reminder_table = Task.__table__, Reminder.__table__
    now = to_db(NOW)
    with store.engine.begin() as conn:
        conn.execute(insert(Person.__table__), [
            {"handle": f"p{n}", "name": f"Person {n}", "roles": [], "is_admin": False, "active": True,
             "created_at": now} for n in range(PEOPLE)])
    every = tasks // DUE  # one due reminder every `every` tasks, across the whole id range
    for first in range(1, tasks + 1, CHUNK):
        ids = range(first, min(first + CHUNK, tasks + 1))
        task_rows, reminder_rows = [], []
        for task_id in ids:
            person = 1 + task_id % PEOPLE
            if task_id % every == 0 and task_id // every <= DUE:
                when, status = now - timedelta(seconds=1 + task_id % 600), "pending"    # due now
            elif task_id % 2:
                when, status = now - timedelta(minutes=5 + task_id % 129_600), "sent"   # the past 90 days
            else:
                when, status = now + timedelta(minutes=1 + task_id % 43_200), "pending"  # the next 30 days
            task_rows.append({
                "id": task_id, "title": f"Task {task_id}", "description": "", "creator_id": person,
                "assignee_id": person, "due_at": when + timedelta(hours=1), "status": "open", "column": "todo",
                "created_at": now - timedelta(days=100), "updated_at": now,
            })
            reminder_rows.append({
                "id": task_id, "task_id": task_id, "person_id": person, "kind": "hour_before", "due_at": when,
                "status": status, "sent_at": when if status == "sent" else None,
            })
        with store.engine.begin() as conn:
            conn.execute(insert(task_table), task_rows)
            conn.execute(insert(reminder_table), reminder_rows)
    checkpoint(store)
    return time.perf_counter() - start


def reset(store) -> None:
    """Undo a measured sweep: the claimed rows pending again, no outbox rows."""
    with store.engine.begin() as conn:
        conn.execute(update(Reminder.__table__).where(Reminder.__table__.c.sent_at == to_db(NOW))
                     .values(status="pending", sent_at=None))
        conn.execute(delete(Outbox.__table__))
    checkpoint(store)


def time_tick(store) -> tuple[float, int]:
    """Seconds for the scheduler to turn every due reminder into an outbox row."""
    start = time.perf_counter()
    claimed = 0
    while handled := reminders.tick(store, NOW):
        claimed += handled
    return time.perf_counter() - start, claimed


def time_claim(store) -> tuple[float, int]:
    """Seconds for the claiming query alone (nothing is changed)."""
    with store.session() as session:
        start = time.perf_counter()
        found = reminders.claim_due(session, NOW, limit=DUE)
        elapsed = time.perf_counter() - start
        session.rollback()
    return elapsed, len(found)


def measure(directory: Path, sizes: tuple[int, ...]) -> dict[int, dict]:
    """Both stores set up first, then measured in turns, so a slow moment of the
    machine hits both sizes alike."""
    found: dict[int, dict] = {}
    for tasks in sizes:
        store = file_store(directory, f"sweep-{tasks}.db")
        found[tasks] = {"store": store, "tasks": tasks, "setup": populate(store, tasks), "ticks": [],
                        "claims": [], "counts": set(),
                        "size_mb": (directory / f"sweep-{tasks}.db").stat().st_size / 1e6}
        time_claim(store)  # warm the connection and the statement cache
    for _ in range(REPEATS):
        for m in found.values():
            store = m["store"]
            for _ in range(CLAIM_REPEATS):
                gc.collect()
                elapsed, count = time_claim(store)
                m["claims"].append(elapsed)
                m["counts"].add(count)
            gc.collect()
            elapsed, claimed = time_tick(store)
            m["ticks"].append(elapsed)
            m["counts"].add(claimed)
            with store.session() as session:
                m["counts"].add(session.exec(select(func.count()).select_from(Outbox)).one())
            reset(store)
    for m in found.values():
        m["store"].engine.dispose()
        m["tick"], m["claim"] = statistics.median(m["ticks"]), statistics.median(m["claims"])
    return found


def main() -> list[Result]:
    print(f"== sweep: find and claim {DUE} due reminders among {SMALL:,} and {BIG:,} tasks (SQLite file) ==")
    with tempfile.TemporaryDirectory() as tmp:
        measured = measure(Path(tmp), (SMALL, BIG))
    small, big = measured[SMALL], measured[BIG]
    for m in (small, big):
        print(f"  {m['tasks']:>9,} tasks ({m['size_mb']:.0f} MB, set up in {m['setup']:.1f}s): "
              f"tick {1000 * m['tick']:7.1f} ms   claim_due query {1000 * m['claim']:6.2f} ms   "
              f"(rows due/claimed/enqueued: {sorted(m['counts'])})")
    ok = small["counts"] == big["counts"] == {DUE}
    tick_ratio, claim_ratio = big["tick"] / small["tick"], big["claim"] / small["claim"]
    print(f"  ratio {BIG:,} / {SMALL:,}: tick {tick_ratio:.2f}   claim_due query {claim_ratio:.2f}"
          + ("" if ok else "   -- COUNT MISMATCH"))
    tick = Result("sweep tick", f"{1000 * big['tick']:.0f} ms @ {BIG:,}", f"{1000 * small['tick']:.0f} ms @ {SMALL:,}",
                  "tick ratio < 1.5", ok and tick_ratio < 1.5, f"ratio {tick_ratio:.2f}")
    claim = Result("sweep claim query", f"{1000 * big['claim']:.1f} ms @ {BIG:,}",
                   f"{1000 * small['claim']:.1f} ms @ {SMALL:,}", "claim_due ratio < 1.5",
                   ok and claim_ratio < 1.5, f"ratio {claim_ratio:.2f}")
    tick.print_goal()
    claim.print_goal()
    return [tick, claim]


if __name__ == "__main__":
    main()
