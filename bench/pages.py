"""Pages: `/tasks`, `/board` and the morning digests at 1 000 and at 100 000 tasks (300 people).

The org: a CEO, five managers under them, one of whom (the lead) has 60
reports; 300 people in all, nobody an admin (so every page filters what its
reader may see). Tasks are spread evenly over creators and assignees; every
tenth has a watcher. What grows with a store is its history, not the work at
hand: in both stores the newest LIVE (1 000) tasks are spread over the board's
columns (the done ones closed in the last 12 days), and every older task was
closed before that, over the past two years. One report has 40 open tasks of
their own in both stores, so their `/tasks` shows a full page (30) at either
size. Rows are written with SQLAlchemy Core inserts, in chunks.

Measured through `Chat.handle` (median of REPEATS, the two stores in turns):
`/tasks` for that report, `/board` for the lead, and every person's digest
rendered (`NoticeRenderer.digest`, what delivery does for each). Baseline: the
same at 1 000 tasks. Goals: `/tasks` <= 1.5x, `/board` <= 250 ms and <= 1.5x,
300 digests <= 5 s.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

from bench.common import NOW, Result, checkpoint, env_int, file_store
from bot.app import build_app
from bot.settings import load_settings
from core.domain.clock import to_db
from core.domain.models import Person, Task, TaskWatcher

SMALL, BIG = 1_000, env_int("BENCH_PAGES_BIG", 100_000)
PEOPLE, REPORTS, OWN, LIVE = 300, 60, 40, 1_000
CHUNK = 20_000
REPEATS = 5
COLUMNS = (("todo", "open"), ("in_progress", "in_progress"), ("awaiting", "awaiting_approval"), ("done", "done"))
LEAD, FOCUS = 2, 7  # person ids: the manager with 60 reports, and one of them


def people_rows() -> list[dict]:
    """1: the CEO; 2-6: managers under them; 7-66: the lead's reports; the rest under managers 3-6."""
    now, rows = to_db(NOW), []
    for n in range(1, PEOPLE + 1):
        manager = None if n == 1 else 1 if n <= 6 else LEAD if n <= 6 + REPORTS else 3 + n % 4
        rows.append({"id": n, "handle": f"p{n}", "name": f"Person {n}", "manager_id": manager, "roles": [],
                     "is_admin": False, "active": True, "language": "en", "timezone": "Europe/Moscow",
                     "created_at": now})
    return rows


def task_row(n: int, size: int) -> dict:
    """Task number n (from 0) of `size`: the first OWN are the focus person's, open; the newest LIVE are
    spread over the columns; the others were closed long ago."""
    now = to_db(NOW)
    if n < OWN:
        column, status = COLUMNS[n % 2]
    elif n >= size - LIVE:
        column, status = COLUMNS[n % 4]
    else:
        column, status = COLUMNS[3]
    closed = now - timedelta(hours=n % 300 if n >= size - LIVE else 24 * (8 + n % 720))
    return {
        "id": n + 1, "title": f"Prepare model {n} for the aligner set", "description": "",
        "creator_id": 1 + (n * 7) % PEOPLE, "assignee_id": FOCUS if n < OWN else 1 + (n * 13 + 1) % PEOPLE,
        "due_at": now + timedelta(minutes=n % 50_000 - 10_000), "status": status, "column": column,
        "created_at": now - timedelta(days=30), "updated_at": now,
        "closed_at": closed if column == "done" else None,
    }


def populate(store, tasks: int) -> float:
    """The org and `tasks` tasks, with Core inserts; returns the seconds spent."""
    start = time.perf_counter()
    with store.engine.begin() as conn:
        conn.execute(insert(Person.__table__), people_rows())
    for first in range(0, tasks, CHUNK):
        numbers = range(first, min(first + CHUNK, tasks))
        with store.engine.begin() as conn:
            rows = [task_row(n, tasks) for n in numbers]
            conn.execute(insert(Task.__table__), rows)
            conn.execute(insert(TaskWatcher.__table__), [
                {"task_id": row["id"], "person_id": 1 + (row["id"] * 31 + 5) % PEOPLE} for row in rows
                if row["id"] % 10 == 0 and 1 + (row["id"] * 31 + 5) % PEOPLE not in (row["creator_id"], row["assignee_id"])])
    checkpoint(store)
    return time.perf_counter() - start


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def digests(app) -> None:
    """Every person's digest rendered, as delivery renders each."""
    renderer = app.delivery.renderer
    with app.store.session() as session:
        for person in session.exec(select(Person)).all():
            renderer.digest(session, person, renderer.reader(person, "telegram"))


def measure(directory: Path) -> dict[int, dict]:
    settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
    found = {}
    for size in (SMALL, BIG):
        store = file_store(directory, f"pages-{size}.db")
        setup = populate(store, size)
        app = build_app(settings, store=store, clock=lambda: NOW)
        found[size] = {"app": app, "setup": setup, "tasks": [], "board": [], "digests": []}
        checks = (app.chat.handle(FOCUS, "/tasks", "telegram"), app.chat.handle(LEAD, "/board", "telegram"))
        assert all(c.kind != "refusal" for c in checks), [c.text for c in checks]
        found[size]["shown"] = checks[0].text.count("\n#") + checks[0].text.startswith("#")
    for _ in range(REPEATS):
        for m in found.values():
            app = m["app"]
            m["tasks"].append(timed(lambda: app.chat.handle(FOCUS, "/tasks", "telegram")))
            m["board"].append(timed(lambda: app.chat.handle(LEAD, "/board", "telegram")))
    for m in found.values():
        m["digests"].append(timed(lambda: digests(m["app"])))
        m["app"].store.engine.dispose()
        for key in ("tasks", "board", "digests"):
            m[key] = statistics.median(m[key])
    return found


def main() -> list[Result]:
    print(f"== pages: /tasks, /board and {PEOPLE} digests at {SMALL:,} and {BIG:,} tasks ({PEOPLE} people; "
          "SQLite file) ==")
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(Path(tmp))
    small, big = found[SMALL], found[BIG]
    for size, m in found.items():
        print(f"  {size:>7,} tasks (set up in {m['setup']:.1f}s): /tasks {1000 * m['tasks']:6.1f} ms   "
              f"/board (manager of {REPORTS}) {1000 * m['board']:6.1f} ms   {PEOPLE} digests {m['digests']:5.2f} s")
    ratio_tasks, ratio_board = big["tasks"] / small["tasks"], big["board"] / small["board"]
    results = [
        Result("pages /tasks", f"{1000 * big['tasks']:.1f} ms @ {BIG:,}", f"{1000 * small['tasks']:.1f} ms @ {SMALL:,}",
               "<= 1.5x the 1k time", ratio_tasks <= 1.5, f"ratio {ratio_tasks:.2f}"),
        Result("pages /board", f"{1000 * big['board']:.1f} ms @ {BIG:,}", f"{1000 * small['board']:.1f} ms @ {SMALL:,}",
               "<= 250 ms and <= 1.5x the 1k time", big["board"] <= 0.25 and ratio_board <= 1.5,
               f"ratio {ratio_board:.2f}"),
        Result("pages 300 digests", f"{big['digests']:.2f} s @ {BIG:,}", f"{small['digests']:.2f} s @ {SMALL:,}",
               "<= 5 s", big["digests"] <= 5.0, ""),
    ]
    for result in results:
        result.print_goal()
    return results


if __name__ == "__main__":
    main()
