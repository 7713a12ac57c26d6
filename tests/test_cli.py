"""The `teamflow` command, run for real in a subprocess and in-process through main()."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from bot.cli import main
from bot.settings import Settings
from core.domain import models  # noqa: F401  (registers the tables)

REPO = Path(__file__).resolve().parent.parent
DEMO_ORG = REPO / "bot" / "demo" / "org.yaml"
VARIABLES = [field.alias for field in Settings.model_fields.values()]
TIMEOUT = 60

# An org file with two problems: an unknown manager (line 4) and a bad time zone (line 7).
BROKEN_ORG = """\
people:
  - id: ivan
    name: Ivan
    manager: nobody
  - id: olga
    name: Olga
    timezone: Mars/Base
"""


def teamflow(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None):
    """Run `python -m bot.cli args` in cwd with only the given Teamflow variables (no chat tokens)."""
    clean = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    clean.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8", TELEGRAM_BOT_TOKEN="", SLACK_BOT_TOKEN="")
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], check=False, cwd=cwd, env=clean, input=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """For in-process runs: no Teamflow variable from outside, and tmp_path as the working directory."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- db upgrade ----------------------------------------------------------------------


def test_db_upgrade_creates_the_tables_and_is_repeatable(tmp_path):
    db = tmp_path / "x.db"
    env = {"DATABASE_URL": sqlite_url(db)}

    first = teamflow("db", "upgrade", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "database is up to date" in first.stdout
    assert db.is_file()

    engine = create_engine(sqlite_url(db))
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables
    with engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(head) == 1

    second = teamflow("db", "upgrade", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert "database is up to date" in second.stdout
    assert set(inspect(engine).get_table_names()) == tables
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == head
    engine.dispose()


def test_bad_setting_stops_db_upgrade_with_one_line(tmp_path):
    db = tmp_path / "x.db"
    result = teamflow("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": sqlite_url(db), "TEAMFLOW_LANGUAGE": "de"})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("teamflow: configuration error: TEAMFLOW_LANGUAGE: ")
    assert "'de'" in lines[0]
    assert not db.exists()


def test_bad_setting_from_dotenv_stops_db_upgrade(tmp_path):
    (tmp_path / ".env").write_text("HTTP_PORT=70000\n", encoding="utf-8")
    result = teamflow("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": sqlite_url(tmp_path / "x.db")})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "teamflow: configuration error: HTTP_PORT: Input should be less than or equal to 65535"
    ]


# --- org check -------------------------------------------------------------------------


@pytest.mark.parametrize(("org_text", "code"), [(DEMO_ORG.read_text(encoding="utf-8"), 0), (BROKEN_ORG, 1)],
                         ids=["demo", "broken"])
def test_org_check_of_dot_org_yaml_in_a_subprocess(tmp_path, org_text, code):
    (tmp_path / "org.yaml").write_text(org_text, encoding="utf-8")
    result = teamflow("org", "check", cwd=tmp_path)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stdout.startswith("org.yaml:")


def test_org_check_demo_is_ok(isolated, capsys):
    assert main(["org", "check", str(DEMO_ORG)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{DEMO_ORG}: ok"


def test_org_check_reads_org_yaml_in_the_working_directory(isolated, capsys):
    (isolated / "org.yaml").write_text(DEMO_ORG.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["org", "check"]) == 0
    assert capsys.readouterr().out.strip() == "org.yaml: ok"


def test_org_check_reads_teamflow_org_file(isolated, monkeypatch, capsys):
    (isolated / "broken.yaml").write_text(BROKEN_ORG, encoding="utf-8")
    monkeypatch.setenv("TEAMFLOW_ORG_FILE", "broken.yaml")
    assert main(["org", "check"]) == 1
    assert "broken.yaml:line 4: " in capsys.readouterr().out


def test_org_check_reports_every_problem_with_its_line(isolated, capsys):
    (isolated / "broken.yaml").write_text(BROKEN_ORG, encoding="utf-8")
    assert main(["org", "check", "broken.yaml"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("broken.yaml:line 4: ") and "unknown manager 'nobody'" in lines[0]
    assert lines[1].startswith("broken.yaml:line 7: ") and "unknown time zone 'Mars/Base'" in lines[1]
    assert lines[2] == "2 problem(s) in broken.yaml"
    assert len(lines) == 3


def test_org_check_without_a_file_says_how_to_give_one(isolated, capsys):
    assert main(["org", "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no org file" in captured.err
    assert "TEAMFLOW_ORG_FILE" in captured.err and "./org.yaml" in captured.err


# --- console and run --------------------------------------------------------------------


CONSOLE_SCRIPT = "/task Prepare the 3D model @pavel by завтра в 15:00\n/tasks all\n/as pavel\n/tasks\n/quit\n"


def test_console_creates_a_task_and_the_assignee_sees_it(tmp_path):
    result = teamflow("console", cwd=tmp_path, env={"DATABASE_URL": sqlite_url(tmp_path / "x.db")},
                      stdin=CONSOLE_SCRIPT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "#1" in out and "Prepare the 3D model" in out
    assert "Task #1 created." in out

    # Everything after the first "pavel> " prompt is pavel's own /tasks list (in his language, ru).
    assert "pavel> " in out
    as_pavel = out.split("pavel> ", 1)[1]
    assert "#1 Prepare the 3D model" in as_pavel
    assert "Pavel Smirnov" in as_pavel


def test_run_in_webhook_mode_without_its_url_stops_with_one_line(tmp_path):
    result = teamflow("run", cwd=tmp_path, env={
        "DATABASE_URL": sqlite_url(tmp_path / "x.db"), "TELEGRAM_BOT_TOKEN": "123456:ABC", "TELEGRAM_MODE": "webhook"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "teamflow: configuration error: TELEGRAM_WEBHOOK_URL: required when TELEGRAM_MODE=webhook"]
    assert not (tmp_path / "x.db").exists()


def test_run_with_a_slack_token_but_no_signing_secret_stops_with_one_line(isolated, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["run"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "teamflow: configuration error: SLACK_SIGNING_SECRET: required for Slack's HTTP mode "
        "(or set SLACK_APP_TOKEN for Socket Mode)"]


@pytest.mark.parametrize("argv", [[], ["db"], ["org"], ["nonsense"]])
def test_incomplete_commands_are_usage_errors(isolated, capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: teamflow" in capsys.readouterr().err


def test_webhooks_reports_on_the_database_the_workers_use(isolated, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url(isolated / "teamflow.db"))
    assert main(["db", "upgrade"]) == 0
    assert main(["webhooks", "--last", "5"]) == 0
    assert "no webhooks: add a webhooks section to the org file" in capsys.readouterr().out
    assert main(["webhooks", "replay", "7"]) == 1
    assert "no given-up event #7" in capsys.readouterr().err
