"""Memory: resident size of a Teamflow process holding 100 000 tasks in its store.

Runs in a fresh child process so the figure is that process's alone:
1. build the real app (demo org, SQLite file) and do the usual work once on
   the empty store (`/tasks`, `/tasks all`, `/board` through Chat), so imports,
   templates and caches are all loaded: the baseline RSS;
2. write 100 000 tasks (SQLAlchemy core inserts, in chunks), do the same work
   again: the figure. VmHWM (the peak) is shown too.
The store is on disk, so holding more tasks should cost little memory: the goal
(set here, the issue names none) is that the tasks add less than 25 % to the
baseline RSS.
"""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import NOW, Result, env_int, rss_kib

TASKS = env_int("BENCH_MEMORY_TASKS", 100_000)
CHUNK = 10_000
GOAL_GROWTH = 0.25
WORK = ("/tasks", "/tasks all", "/board")


def child(directory: str) -> dict:
    from sqlalchemy import insert
    from sqlmodel import select

    from bench.common import file_store
    from bot.app import DEMO_ORG, build_app
    from bot.settings import load_settings
    from core.domain.clock import to_db
    from core.domain.models import Person, Task

    store = file_store(Path(directory), "memory.db")
    app = build_app(load_settings(_env_file=None, DATABASE_URL="sqlite://"), store=store, clock=lambda: NOW,
                    org_file=DEMO_ORG)
    with store.session() as session:
        people = {p.handle: p.id for p in session.exec(select(Person))}
    olga = people["olga"]

    def work() -> dict[str, float]:
        spent = {}
        for text in WORK:
            start = time.perf_counter()
            answer = app.chat.handle(olga, text, "telegram")
            spent[text] = 1000 * (time.perf_counter() - start)
            assert answer.kind != "refusal", answer.text
        return spent

    work()
    gc.collect()
    before = rss_kib()

    ids = list(people.values())
    now = to_db(NOW)
    columns = ("todo", "in_progress", "awaiting", "done")
    statuses = {"todo": "open", "in_progress": "in_progress", "awaiting": "awaiting_approval", "done": "done"}
    for first in range(0, TASKS, CHUNK):
        rows = []
        for n in range(first, min(first + CHUNK, TASKS)):
            column = columns[n % 4]
            rows.append({
                "title": f"Prepare model {n} for the aligner set", "description": "Scan attached; check the bite.",
                "creator_id": ids[n % len(ids)], "assignee_id": ids[(n + 1) % len(ids)],
                "due_at": now + timedelta(minutes=n % 50_000 - 10_000), "status": statuses[column],
                "column": column, "created_at": now - timedelta(days=30), "updated_at": now,
                "closed_at": now - timedelta(hours=n % 300) if column == "done" else None,
            })
        with store.engine.begin() as conn:
            conn.execute(insert(Task.__table__), rows)
        del rows
    gc.collect()
    inserted = rss_kib()
    spent = work()
    gc.collect()
    after = rss_kib()
    with store.session() as session:
        count = len(session.exec(select(Task.id)).all())
    return {"before": before, "inserted": inserted, "after": after, "tasks": count, "work_ms": spent}


def main() -> list[Result]:
    print(f"== memory: resident size of a process holding {TASKS:,} tasks (SQLite file, fresh child process) ==")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "bench.memory", "--child", tmp], capture_output=True,
                              text=True, timeout=240, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        print(done.stdout + done.stderr)
        raise RuntimeError("the memory child failed")
    m = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = m["before"]["VmRSS"] / 1024, m["after"]["VmRSS"] / 1024
    growth = (after - before) / before
    print(f"  RSS with {m['tasks']:,} tasks after /tasks, /tasks all, /board: {after:6.1f} MiB   "
          f"baseline (same process, app built and warmed, no tasks): {before:6.1f} MiB   "
          f"growth {after - before:+.1f} MiB ({100 * growth:+.1f}%), peak {m['after']['VmHWM'] / 1024:.1f} MiB")
    print(f"  (right after writing the tasks, before the work: {m['inserted']['VmRSS'] / 1024:.1f} MiB)")
    print("  the usual work with the tasks in the store (ms): "
          + ", ".join(f"{text} {ms:.0f}" for text, ms in m["work_ms"].items()))
    result = Result("memory", f"{after:.0f} MiB @ {m['tasks']:,} tasks", f"{before:.0f} MiB empty",
                    f"growth < {100 * GOAL_GROWTH:.0f}% of baseline", growth < GOAL_GROWTH and m["tasks"] == TASKS,
                    f"{after - before:+.1f} MiB, {100 * growth:+.1f}%")
    result.print_goal()
    return [result]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
    else:
        main()
