"""The org file: every problem is found with its line, and sync keeps the store in step."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from core.config.org import OrgError, Problem, check_org, load_org, parse_org, sync_org
from core.domain.clock import from_db
from core.domain.models import Person, Webhook
from core.infra.store import Store, create_all
from tests.conftest import fresh_store

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo" / "org.yaml"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

# Lines 1-3 of most broken files below; their own lines start at 4.
HEAD = "people:\n  - id: ivan\n    name: Ivan\n"


def write(tmp_path: Path, text: str) -> Path:
    """The text as an org file in tmp_path."""
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def person(handle: str, *extra: str) -> str:
    """A person entry (id and name) plus extra '    key: value' lines."""
    lines = [f"  - id: {handle}", f"    name: {handle.title()}", *(f"    {line}" for line in extra)]
    return "\n".join(lines) + "\n"


# --- the demo ----------------------------------------------------------------


def test_demo_org_has_no_problems():
    assert check_org(DEMO) == []


def test_demo_org_loads():
    org = load_org(DEMO)
    assert (org.timezone, org.language) == ("Europe/Moscow", "ru")
    assert [p.handle for p in org.people] == ["ivan", "olga", "maria", "pavel", "anna", "kate"]
    olga = org.person("olga")
    assert olga.admin and olga.roles == ["analyst"] and olga.language == "en"
    assert org.person("ivan").manager is None
    assert org.person("pavel").manager == "olga"
    assert org.channels["announcements"] == {"telegram": ["-1001234567890"], "slack": ["C0123ABCD"]}


# --- good files ----------------------------------------------------------------


def test_fields_are_read(tmp_path):
    text = HEAD + person(
        "olga", "email: olga@example.com", "telegram: '@Olga_R'", "slack: U0123ABCD",
        "manager: ivan", "roles: [analyst, lawyer]", "admin: true",
        "timezone: Asia/Yekaterinburg", "language: en", "birthday: 1990-05-17",
    ) + person("maria", "telegram: 123456789", "birthday: '1991-01-02'")
    org = load_org(write(tmp_path, text))
    olga, maria = org.person("olga"), org.person("maria")
    assert (olga.telegram_username, olga.telegram_id, olga.slack_id) == ("olga_r", None, "U0123ABCD")
    assert (olga.manager, olga.roles, olga.admin) == ("ivan", ["analyst", "lawyer"], True)
    assert (olga.timezone, olga.language, olga.birthday) == ("Asia/Yekaterinburg", "en", date(1990, 5, 17))
    assert (olga.line, maria.line) == (4, 15)
    assert (maria.telegram_id, maria.telegram_username, maria.birthday) == (123456789, None, date(1991, 1, 2))
    assert org.person("nobody") is None


def test_defaults_come_from_the_file_else_the_arguments():
    org, problems = parse_org(HEAD, default_timezone="Europe/Berlin", default_language="ru")
    assert problems == [] and (org.timezone, org.language, org.channels) == ("Europe/Berlin", "ru", {})
    org, _ = parse_org("timezone: Asia/Tokyo\nlanguage: en\n" + HEAD, default_language="ru")
    assert (org.timezone, org.language) == ("Asia/Tokyo", "en")


def test_channel_ids_may_be_a_list():
    text = HEAD + "channels:\n  news:\n    telegram: [-100111, -100222]\n    slack: C01\n"
    org, problems = parse_org(text)
    assert problems == []
    assert org.channels == {"news": {"telegram": ["-100111", "-100222"], "slack": ["C01"]}}


# --- broken files: each problem kind, with its exact line ----------------------------

BROKEN = [
    pytest.param("people:\n  - id: ivan\n    name: [Ivan\n", 4, "not valid YAML", id="bad-yaml"),
    pytest.param("", 1, "must be a mapping", id="empty-file"),
    pytest.param("- id: ivan\n  name: Ivan\n", 1, "must be a mapping", id="top-level-list"),
    pytest.param("timezone: UTC\nlanguage: en\n", 1, "no 'people' list", id="people-missing"),
    pytest.param("timezone: UTC\npeople: ivan\n", 2, "'people' must be a list", id="people-not-list"),
    pytest.param("timezone: UTC\npeople:\n", 2, "'people' must be a list", id="people-null"),
    pytest.param("people: []\n", 1, "'people' is empty", id="people-empty"),
    pytest.param(HEAD + "  - olga\n", 4, "each person must be a mapping", id="person-not-mapping"),
    pytest.param(HEAD + "  - name: Olga\n    email: o@x.io\n", 4, "person without 'id'", id="no-id"),
    pytest.param(HEAD + "  - id: olga\n    email: o@x.io\n", 4, "person 'olga' has no 'name'", id="no-name"),
    pytest.param(HEAD + "  - id: olga\n    name:\n", 5, "person 'olga' has no 'name'", id="empty-name"),
    pytest.param(HEAD + person("Olga"), 4, "bad id 'Olga'", id="handle-uppercase"),
    pytest.param(HEAD + person("-olga"), 4, "bad id '-olga'", id="handle-leading-dash"),
    pytest.param(HEAD + person("olga r"), 4, "bad id 'olga r'", id="handle-space"),
    pytest.param(HEAD + "  - id: [olga]\n    name: Olga\n", 4, "'id' must be a single word", id="handle-list"),
    pytest.param(HEAD + person("maria") + person("ivan"), 6, "duplicate id 'ivan' (first at line 2)", id="duplicate-handle"),
    pytest.param(HEAD + person("olga", "manager: petr"), 6, "unknown manager 'petr' for 'olga'", id="unknown-manager"),
    pytest.param(HEAD + person("olga", "manager: olga"), 6, "'olga' is their own manager", id="own-manager"),
    pytest.param(
        HEAD + person("a", "manager: b") + person("b", "manager: a"), 6, "manager cycle: a -> b -> a", id="cycle-of-two"
    ),
    pytest.param("timezone: Mars/Base\n" + HEAD, 1, "unknown time zone 'Mars/Base' at the top level", id="bad-org-zone"),
    pytest.param(HEAD + person("olga", "timezone: Europe/Moskow"), 6, "unknown time zone 'Europe/Moskow' for 'olga'", id="bad-person-zone"),
    pytest.param("language: de\n" + HEAD, 1, "language 'de' at the top level must be ru or en", id="bad-org-language"),
    pytest.param(HEAD + person("olga", "language: fr"), 6, "language 'fr' for 'olga' must be ru or en", id="bad-person-language"),
    pytest.param(HEAD + person("olga", "roles: analyst"), 6, "roles of 'olga' must be a list", id="roles-scalar"),
    pytest.param(HEAD + person("olga", "roles: [analyst, {a: b}]"), 6, "roles of 'olga' must be a list", id="roles-mapping-item"),
    pytest.param(HEAD + person("olga", "admin: 'true'"), 6, "admin of 'olga' must be true or false", id="admin-quoted"),
    pytest.param(HEAD + person("olga", "admin: 1"), 6, "admin of 'olga' must be true or false", id="admin-number"),
    pytest.param(
        HEAD + person("olga", "telegram: olga_r") + person("maria", "telegram: '@OLGA_R'"),
        9, "telegram 'olga_r' of 'maria' is already used by 'olga' (line 6)", id="duplicate-telegram-username",
    ),
    pytest.param(
        HEAD + person("olga", "telegram: 1234567") + person("maria", "telegram: '1234567'"),
        9, "telegram '1234567' of 'maria' is already used by 'olga'", id="duplicate-telegram-id",
    ),
    pytest.param(
        HEAD + person("olga", "slack: U01") + person("maria", "slack: U01"),
        9, "slack 'U01' of 'maria' is already used by 'olga' (line 6)", id="duplicate-slack",
    ),
    pytest.param(HEAD + person("olga", "telegram: ol"), 6, "telegram 'ol' of 'olga' is neither", id="telegram-too-short"),
    pytest.param(HEAD + person("olga", "telegram: olga-r"), 6, "telegram 'olga-r' of 'olga' is neither", id="telegram-bad-char"),
    pytest.param(HEAD + person("olga", "telegram: -1001234567890"), 6, "is neither a numeric user id", id="telegram-group-id"),
    pytest.param(HEAD + person("olga", "email: olga.example.com"), 6, "email 'olga.example.com' of 'olga' has no '@'", id="email"),
    pytest.param(HEAD + person("olga", "birthday: 17.05.1990"), 6, "birthday '17.05.1990' of 'olga' is not a date", id="birthday-text"),
    pytest.param(HEAD + person("olga", "birthday: 1990-13-45"), 6, "birthday '1990-13-45' of 'olga' is not a date", id="birthday-impossible"),
    pytest.param(HEAD + person("olga", "birthday: 1990-05-17 10:00:00"), 6, "is not a date", id="birthday-datetime"),
    pytest.param(HEAD + "peple: []\n", 4, "unknown key 'peple' at the top level (did you mean 'people'?)", id="unknown-top-key"),
    pytest.param(HEAD + person("olga", "rolse: [analyst]"), 6, "unknown key 'rolse' for 'olga' (did you mean 'roles'?)", id="unknown-person-key"),
    pytest.param(HEAD + person("olga", "name: Olga again"), 6, "duplicate key 'name' for 'olga'", id="duplicate-key"),
    pytest.param(HEAD + person("olga", "slack: [U01, U02]"), 6, "'slack' for 'olga' must be a single value", id="slack-list"),
    pytest.param(HEAD + "channels: [announcements]\n", 4, "'channels' must map channel names", id="channels-list"),
    pytest.param(HEAD + "channels:\n  news: -100123\n", 5, "channel 'news' must map platforms", id="channel-scalar"),
    pytest.param(HEAD + "channels:\n  news:\n    telegram: {id: 1}\n", 6, "telegram of channel 'news' must be a chat id", id="channel-ids-mapping"),
    pytest.param(HEAD + "channels:\n  news:\n    slack: [C01, [C02]]\n", 6, "slack of channel 'news' must be a chat id", id="channel-ids-nested"),
    pytest.param(HEAD + "channels:\n  news:\n    slack:\n", 6, "slack of channel 'news' must be a chat id", id="channel-ids-empty"),
]


@pytest.mark.parametrize("text, line, message", BROKEN)
def test_each_problem_is_reported_at_its_line(tmp_path, text, line, message):
    problems = check_org(write(tmp_path, text))
    assert len(problems) == 1, problems
    assert problems[0].line == line
    assert message in problems[0].message


def test_a_missing_file_is_one_problem_at_line_0(tmp_path):
    problems = check_org(tmp_path / "absent.yaml")
    assert len(problems) == 1
    assert problems[0].line == 0 and "cannot read the org file" in problems[0].message


def test_a_file_that_is_not_utf8_is_one_problem(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_bytes(b"people:\n  - id: ivan\n    name: \xff\xfe\n")
    assert [p.line for p in check_org(path)] == [0]


def test_a_cycle_is_reported_once_whoever_points_into_it(tmp_path):
    text = (
        HEAD
        + person("a", "manager: c")  # line 4
        + person("b", "manager: a")  # line 7
        + person("c", "manager: b")  # line 10
        + person("d", "manager: a")  # points into the cycle, is not part of it
    )
    problems = check_org(write(tmp_path, text))
    assert [(p.line, p.message) for p in problems] == [(6, "manager cycle: a -> c -> b -> a")]


def test_two_separate_cycles_are_two_problems(tmp_path):
    text = HEAD + person("a", "manager: b") + person("b", "manager: a") + person("c", "manager: d") + person("d", "manager: c")
    problems = check_org(write(tmp_path, text))
    assert [p.message for p in problems] == ["manager cycle: a -> b -> a", "manager cycle: c -> d -> c"]


def test_every_problem_in_a_file_is_reported_in_line_order(tmp_path):
    text = (
        "timezone: Mars/Base\n"  # 1
        "langauge: ru\n"  # 2
        "people:\n"  # 3
        "  - id: Olga\n"  # 4
        "    name: Olga\n"  # 5
        "    email: nowhere\n"  # 6
        "  - name: Nobody\n"  # 7
        "  - id: ivan\n"  # 8
        "    name: Ivan\n"  # 9
        "    manager: petr\n"  # 10
        "    admin: maybe\n"  # 11
        "    birthday: soon\n"  # 12
        "  - id: ivan\n"  # 13
        "    name: Ivan Two\n"  # 14
        "channels: none\n"  # 15
    )
    problems = check_org(write(tmp_path, text))
    assert [p.line for p in problems] == [1, 2, 4, 6, 7, 10, 11, 12, 13, 15]
    assert "unknown manager 'petr' for 'ivan'" in problems[5].message


def test_parse_org_gives_no_org_when_there_are_problems():
    org, problems = parse_org(HEAD + person("olga", "manager: petr"))
    assert org is None and len(problems) == 1


def test_problem_text_names_the_line():
    assert str(Problem(12, "unknown manager 'petr' for 'olga'")) == "line 12: unknown manager 'petr' for 'olga'"


def test_load_org_raises_with_every_problem(tmp_path):
    path = write(tmp_path, HEAD + person("olga", "manager: petr", "language: de"))
    with pytest.raises(OrgError) as caught:
        load_org(path)
    assert [p.line for p in caught.value.problems] == [6, 7]
    assert str(caught.value).splitlines() == [
        f"{path}: line 6: unknown manager 'petr' for 'olga'",
        f"{path}: line 7: language 'de' for 'olga' must be ru or en",
    ]


def test_load_org_raises_for_a_missing_file(tmp_path):
    with pytest.raises(OrgError) as caught:
        load_org(tmp_path / "absent.yaml")
    assert caught.value.problems[0].line == 0


# --- syncing into the store --------------------------------------------------------


@pytest.fixture
def store():
    store = Store.from_url("sqlite://")
    create_all(store.engine)
    return store


def people_in(store: Store) -> dict[str, Person]:
    """Every Person row by handle."""
    with store.session() as session:
        return {p.handle: p for p in session.exec(select(Person)).all()}


def sync(store: Store, text: str, now: datetime = NOW) -> None:
    """Parse `text` (it must be clean) and sync it in one unit of work."""
    org, problems = parse_org(text)
    assert problems == []
    with store.session() as session:
        sync_org(session, org, now=now)


def test_sync_creates_people_with_managers_resolved(store):
    with store.session() as session:
        sync_org(session, load_org(DEMO), now=NOW)
    rows = people_in(store)
    assert set(rows) == {"ivan", "olga", "maria", "pavel", "anna", "kate"}
    assert rows["pavel"].manager_id == rows["olga"].id
    assert rows["olga"].manager_id == rows["ivan"].id
    assert rows["ivan"].manager_id is None
    olga = rows["olga"]
    assert (olga.name, olga.email, olga.roles, olga.is_admin, olga.active) == (
        "Olga Reshetova", "olga@example.com", ["analyst"], True, True,
    )
    assert (olga.telegram_username, olga.slack_id, olga.language, olga.timezone) == (
        "olga_reshetova", "U01OLGA0002", "en", "Europe/Moscow",
    )
    assert rows["maria"].language is None  # None: the org's default applies
    assert from_db(olga.created_at) == NOW


def test_sync_does_not_commit(store):
    with pytest.raises(RuntimeError):
        with store.session() as session:
            sync_org(session, load_org(DEMO), now=NOW)
            raise RuntimeError("the caller fails after syncing")
    assert people_in(store) == {}


def test_a_second_sync_deactivates_who_left_and_keeps_the_rest(store):
    sync(store, HEAD + person("olga", "manager: ivan", "slack: U01") + person("maria", "manager: olga"))
    first = people_in(store)
    sync(store, HEAD + person("maria", "manager: ivan", "roles: [accountant]"), now=datetime(2025, 4, 1, tzinfo=timezone.utc))
    rows = people_in(store)
    assert set(rows) == {"ivan", "olga", "maria"}  # never deleted
    assert rows["olga"].active is False
    assert rows["ivan"].active and rows["maria"].active
    assert rows["maria"].id == first["maria"].id and rows["maria"].created_at == first["maria"].created_at
    assert rows["maria"].manager_id == rows["ivan"].id and rows["maria"].roles == ["accountant"]


def test_a_person_who_returns_is_active_again(store):
    sync(store, HEAD + person("olga"))
    sync(store, HEAD)
    sync(store, HEAD + person("olga"))
    assert people_in(store)["olga"].active is True


def test_a_learned_telegram_id_survives_a_resync(store):
    sync(store, HEAD + person("olga", "telegram: olga_r"))
    with store.session() as session:  # the bot meets olga and stores her numeric id
        row = session.exec(select(Person).where(Person.handle == "olga")).one()
        row.telegram_id = 555000111
    sync(store, HEAD + person("olga", "telegram: '@Olga_R'", "roles: [analyst]"))
    olga = people_in(store)["olga"]
    assert (olga.telegram_id, olga.telegram_username, olga.roles) == (555000111, "olga_r", ["analyst"])


def test_a_learned_telegram_id_is_dropped_when_the_username_changes(store):
    sync(store, HEAD + person("olga", "telegram: olga_r"))
    with store.session() as session:
        session.exec(select(Person).where(Person.handle == "olga")).one().telegram_id = 555000111
    sync(store, HEAD + person("olga", "telegram: olga_new"))
    assert people_in(store)["olga"].telegram_id is None


def test_identities_may_move_between_people(store):
    sync(store, HEAD + person("olga", "slack: U01", "telegram: 111111") + person("maria", "slack: U02", "telegram: 222222"))
    sync(store, HEAD + person("olga", "slack: U02", "telegram: 222222") + person("maria", "slack: U01", "telegram: 111111"))
    rows = people_in(store)
    assert (rows["olga"].slack_id, rows["olga"].telegram_id) == ("U02", 222222)
    assert (rows["maria"].slack_id, rows["maria"].telegram_id) == ("U01", 111111)


def test_a_renamed_handle_takes_over_the_old_identity(store):
    sync(store, HEAD + person("olga", "slack: U01"))
    sync(store, HEAD + person("olga.r", "slack: U01"))
    rows = people_in(store)
    assert rows["olga"].active is False and rows["olga"].slack_id is None
    assert rows["olga.r"].slack_id == "U01"


HOOKS = """
webhooks:
  - name: crm
    url: https://crm.example.com/hook
    secret_env: CRM_HOOK_SECRET
    events: ["*"]
"""


@pytest.mark.parametrize("synced_before", [False, True], ids=["fresh", "hook-added-later"])
def test_two_syncs_at_once_leave_each_person_and_hook_once(db_url, synced_before):
    """Workers starting together sync the same file: the second waits for the first (an advisory
    lock on PostgreSQL, the write lock of BEGIN IMMEDIATE on SQLite), then finds every row there.
    Also when only the hook is new (a rolling restart after the file gained one)."""
    org, problems = parse_org(DEMO.read_text(encoding="utf-8") + HOOKS)
    assert problems == []
    first, second = fresh_store(db_url), Store.from_url(db_url)
    if synced_before:
        with first.session() as session:
            sync_org(session, load_org(DEMO), now=NOW)

    def sync_second() -> None:
        with second.session() as session:
            sync_org(session, org, now=NOW)

    with ThreadPoolExecutor(1) as pool:
        with first.session() as session:
            sync_org(session, org, now=NOW)
            later = pool.submit(sync_second)
            _until_held(first, later)  # the first commits only once the second is held up
        later.result(timeout=30)
    with first.session() as session:
        assert sorted(p.handle for p in session.exec(select(Person))) == sorted(p.handle for p in org.people)
        assert [h.key for h in session.exec(select(Webhook))] == ["crm"]
    first.engine.dispose()
    second.engine.dispose()


WAITING = """SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE NOT l.granted AND a.datname = current_database()"""


def _until_held(store: Store, later) -> None:
    """Bounded: until a session of this database waits for a lock, or `later` is over (PostgreSQL
    shows the wait; SQLite's busy wait does not, so there a pause has to do)."""
    if store.is_sqlite:
        time.sleep(0.3)
        return
    with store.engine.connect() as conn:
        for _ in range(200):
            if later.done() or conn.exec_driver_sql(WAITING).scalar_one():
                return
            conn.rollback()  # pg_stat_activity is read once per transaction
            time.sleep(0.05)
    raise AssertionError("the second sync never waited for a lock")


REMINDERS_ORG = """\
people:
  - id: olga
    name: Olga
reminders:
  before: [2d, 3h]
  at_deadline: false
  overdue_every: off
"""


def test_the_reminder_policy_is_read_and_synced(tmp_path):
    from datetime import timedelta

    from core.domain import policy

    org, problems = parse_org(REMINDERS_ORG)
    assert problems == []
    assert org.reminders == policy.Policy((timedelta(days=2), timedelta(hours=3)), False, None)
    store = Store.from_url("sqlite://")
    create_all(store.engine)
    with store.session() as session:
        sync_org(session, org, now=NOW)
    with store.session() as session:
        assert policy.load(session) == org.reminders


@pytest.mark.parametrize("block, line, message", [
    ("reminders:\n  before: [1d, soon]\n", 5, "'soon' is not a duration"),
    ("reminders:\n  overdue_every: weekly\n", 5, "'weekly' is not a duration"),
    ("reminders:\n  before: 1d\n", 5, "must be a list"),
    ("reminders:\n  at_deadline: maybe\n", 5, "must be true or false"),
    ("reminders:\n  every: 1d\n", 5, "every"),
])
def test_a_bad_reminder_policy_is_reported_with_its_line(block, line, message):
    _org, problems = parse_org("people:\n  - id: olga\n    name: Olga\n" + block)
    assert any(p.line == line and message in p.message for p in problems), problems
