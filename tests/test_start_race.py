"""Three `teamflow run` workers started at the same moment on a fresh PostgreSQL database:
each migrates (or waits for the one that does), syncs the org file (or waits for the one
that does) and answers `GET /healthz`; every person and webhook is in the store once.

How close together the starts land depends on how the machine schedules three Python
start-ups, so the test holds the workers where they collide, with locks of its own: at the
migrations' advisory lock until all three wait there, then, once the migration has made
the person table, at writing to it until all three wait (each having read it empty, or for
the one syncing). That is the worst case every time, not now and then: without the org
sync's lock, two workers die of a duplicate key on every run.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.app import DEMO_ORG
from bot.settings import Settings
from core.config.org import load_org
from core.infra.store import MIGRATIONS_LOCK
from tests.conftest import postgres_url
from tests.fakes import slack_api as fake_slack
from tests.test_telegram_runtime import free_port

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3
LIMIT_S = 60.0  # for each wait; three workers are up in about three seconds on two cores
VARIABLES = [field.alias for field in Settings.model_fields.values()]
# Besides the people, sync_org saves the reminder policy, the webhooks and the work calendar
# (the demo org's holidays): the demo team plus the first two.
EXTRA = """
reminders:
  before: [1d, 1h]
webhooks:
  - name: crm
    url: https://crm.example.com/hook
    secret_env: CRM_HOOK_SECRET
    events: [task.created, task.done]
  - url: https://audit.example.com/hook
    secret_env: AUDIT_HOOK_SECRET
    events: ["*"]
"""
# Sessions waiting for a lock on something of this database (advisory locks and tables are;
# pg_locks, unlike pg_stat_activity, is read afresh inside the gate's transaction).
WAITING = """SELECT count(DISTINCT pid) FROM pg_locks
             WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


@pytest.fixture
def fresh_database():
    """A uniquely named, empty database on the TEST_POSTGRES_URL server (a libpq URL), dropped afterwards."""
    server = make_url(postgres_url()).set(drivername="postgresql")
    name = f"teamflow_start_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # refused inside a transaction: hence autocommit
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Gate:
    """The test's own session on the workers' database, holding them where their starts collide."""

    def __init__(self, url: str, workers: list[subprocess.Popen], logs: list[Path]) -> None:
        self.db = psycopg.connect(url, autocommit=True)
        self.workers, self.logs = workers, logs

    def close(self) -> None:
        """Let every held worker go."""
        self.db.close()

    def hold_migrations(self) -> None:
        """Take the lock `teamflow db upgrade` takes: every worker stops there."""
        self.db.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))

    def release_migrations(self) -> None:
        """One worker migrates; the others wait for it in turn, then find nothing to do."""
        self.db.execute("SELECT pg_advisory_unlock(%s)", (MIGRATIONS_LOCK,))

    async def hold_people(self) -> bool:
        """Lock the person table against writes as soon as the migration creates it; False when a
        worker synced first (the run is then only as adversarial as the machine made it)."""
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            self.check_alive()
            self.db.execute("BEGIN")
            try:
                self.db.execute("LOCK TABLE person IN SHARE MODE NOWAIT")
            except psycopg.errors.UndefinedTable:  # not migrated yet
                self.db.execute("ROLLBACK")
                await asyncio.sleep(0.002)
                continue
            except psycopg.errors.LockNotAvailable:  # a worker is writing people already
                self.db.execute("ROLLBACK")
                return False
            if self.db.execute("SELECT count(*) FROM person").fetchone()[0]:
                self.release_people()
                return False
            return True
        pytest.fail(f"no person table within {LIMIT_S:g} s: the migrations never ran")

    def release_people(self) -> None:
        """The held writers go on: each of them, or the one syncing (the others wait for it)."""
        self.db.execute("COMMIT")

    async def until_all_wait(self, where: str) -> None:
        """Bounded: until every worker waits for a lock, or fail saying why."""
        deadline = time.monotonic() + LIMIT_S
        while self.db.execute(WAITING).fetchone()[0] < len(self.workers):
            self.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"the workers were not all waiting at {where} within {LIMIT_S:g} s")
            await asyncio.sleep(0.01)

    def check_alive(self) -> None:
        """Fail with its log as soon as a worker has exited."""
        for n, worker in enumerate(self.workers):
            if worker.poll() is not None:
                pytest.fail(f"worker {n} exited with {worker.returncode}:\n{tail(self.logs[n])}")


def team_file(tmp_path: Path) -> Path:
    """The demo org file with a reminder policy and two webhooks."""
    path = tmp_path / "org.yaml"
    path.write_text(DEMO_ORG.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    return path


def worker_env(database_url: str, org_file: Path, fake_url: str, port: int) -> dict[str, str]:
    """What a container orchestrator gives each worker: the database, the org file and a platform
    in HTTP mode (Slack's: its libraries load about three times faster than aiogram)."""
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", DATABASE_URL=database_url,  # read as +psycopg
               TEAMFLOW_ORG_FILE=str(org_file), SLACK_BOT_TOKEN=fake_slack.DEFAULT_TOKEN, SLACK_API_URL=fake_url,
               SLACK_SIGNING_SECRET=fake_slack.SIGNING_SECRET, HTTP_PORT=str(port), CRM_HOOK_SECRET="crm",
               AUDIT_HOOK_SECRET="audit")
    return env


async def until_healthy(gate: Gate, ports: list[int]) -> None:
    """Bounded: until every worker answers GET /healthz with 200 on its own port."""
    up: set[int] = set()
    deadline = time.monotonic() + LIMIT_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while len(up) < len(ports):
            gate.check_alive()
            for n in set(range(len(ports))) - up:
                try:
                    async with http.get(f"http://127.0.0.1:{ports[n]}/healthz") as response:
                        if response.status == 200:
                            up.add(n)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass  # not listening yet
            if time.monotonic() > deadline:
                down = sorted(set(range(len(ports))) - up)
                pytest.fail(f"workers {down} not healthy within {LIMIT_S:g} s:\n{tail(gate.logs[down[0]])}")
            await asyncio.sleep(0.05)


def tail(log: Path, lines: int = 12) -> str:
    """The end of a worker's log, each line cut short (a failed INSERT prints every parameter)."""
    return "\n".join(line[:300] for line in log.read_text(errors="replace").splitlines()[-lines:])


def stop(workers: list[subprocess.Popen]) -> None:
    """Terminate every worker, killing any that does not exit within a few seconds."""
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


def counts(url: str, query: str) -> Counter:
    """How many rows each value the query returns has."""
    with psycopg.connect(url) as db:
        return Counter(row[0] for row in db.execute(query))


async def test_three_workers_start_together_on_a_fresh_database(fresh_database, tmp_path):
    org_file = team_file(tmp_path)
    org = load_org(org_file)
    ports = [free_port() for _ in range(WORKERS)]
    logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
    workers: list[subprocess.Popen] = []
    gate = Gate(fresh_database, workers, logs)
    async with fake_slack.FakeSlack() as fake:
        try:
            gate.hold_migrations()
            # As in a container: `teamflow run` runs `db upgrade`, syncs the org file, then serves.
            for port, log in zip(ports, logs):
                with log.open("w") as out:
                    workers.append(subprocess.Popen(
                        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                        stdout=out, stderr=subprocess.STDOUT, env=worker_env(fresh_database, org_file, fake.url, port)))
            await gate.until_all_wait("the migrations")
            gate.release_migrations()
            if await gate.hold_people():
                await gate.until_all_wait("the org sync")
                gate.release_people()
            await until_healthy(gate, ports)
        finally:
            gate.close()
            await asyncio.to_thread(stop, workers)  # the fake keeps answering while they shut down
    assert counts(fresh_database, "SELECT handle FROM person") == Counter(p.handle for p in org.people)
    assert counts(fresh_database, 'SELECT "key" FROM webhook') == Counter(h.key for h in org.webhooks)
    assert sum(counts(fresh_database, "SELECT version_num FROM alembic_version").values()) == 1
