"""Outbox delivery: once per notice, retried when the platform stumbles, never lost."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from core.domain.models import CardMessage, Outbox, Person
from core.infra.outbox import DeliveryError, Sent, enqueue
from core.services import tasks
from tests.conftest import make_app


class FlakyMessenger:
    """Fails the first `failures` sends with the given error, then records."""

    platform = "fake"

    def __init__(self, failures: int = 0, error: DeliveryError | Exception | None = None) -> None:
        self.failures, self.error, self.sent = failures, error, []

    def reaches(self, person: Person) -> bool:
        return person.handle != "unreachable"

    async def send(self, person: Person, message) -> Sent:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append((person.handle, message.text))
        return Sent("fake", person.handle, str(len(self.sent)))


def people(app) -> dict[str, int]:
    with app.store.session() as session:
        return {p.handle: p.id for p in session.exec(select(Person))}


def statuses(app) -> list[tuple[str, int]]:
    with app.store.session() as session:
        return [(row.status, row.attempts) for row in session.exec(select(Outbox).order_by(Outbox.id))]


def deliver(app) -> int:
    return asyncio.run(app.delivery.drain())


@pytest.fixture
def make(sqlite_store, clock):
    return lambda messenger: make_app(sqlite_store, messenger, clock)


def create(app, author="olga", title="Scan the impressions", assignee="pavel"):
    ids = people(app)
    with app.store.session() as session:
        return tasks.create_task(session, ids[author], title, assignee_id=ids.get(assignee), now=app.clock()).task


def test_each_notice_is_sent_once_and_its_card_remembered(make):
    messenger = FlakyMessenger()
    app = make(messenger)
    task = create(app)
    assert deliver(app) == 1
    assert deliver(app) == 0
    assert [handle for handle, _ in messenger.sent] == ["pavel"]
    assert "Scan the impressions" in messenger.sent[0][1]
    with app.store.session() as session:
        card = session.exec(select(CardMessage)).one()
    assert (card.task_id, card.platform, card.chat_id) == (task.id, "fake", "pavel")
    assert statuses(app) == [("sent", 1)]


def test_a_rate_limited_send_waits_for_retry_after_then_goes_through(make, clock):
    messenger = FlakyMessenger(failures=1, error=DeliveryError("429 Too Many Requests", retry_after=30))
    app = make(messenger)
    create(app)
    deliver(app)
    assert messenger.sent == [] and statuses(app) == [("pending", 1)]
    clock.advance(seconds=29)
    deliver(app)
    assert messenger.sent == []
    clock.advance(seconds=2)
    deliver(app)
    assert len(messenger.sent) == 1 and statuses(app) == [("sent", 2)]


def test_an_unexpected_error_is_retried_with_backoff_not_dropped(make, clock):
    messenger = FlakyMessenger(failures=3, error=ConnectionResetError("peer went away"))
    app = make(messenger)
    create(app)
    for _ in range(4):
        deliver(app)
        clock.advance(minutes=5)
    assert len(messenger.sent) == 1 and statuses(app) == [("sent", 4)]


def test_a_permanent_error_is_recorded_and_not_retried(make, clock):
    messenger = FlakyMessenger(failures=1, error=DeliveryError("bot was blocked by the user", permanent=True))
    app = make(messenger)
    create(app)
    deliver(app)
    clock.advance(hours=1)
    deliver(app)
    assert [handle for handle, _ in messenger.sent] == ["olga"]  # only the admin's notice of it
    with app.store.session() as session:
        row = session.exec(select(Outbox).where(Outbox.template == "task_event")).one()
    assert (row.status, row.error, row.attempts) == ("failed", "bot was blocked by the user", 1)


def test_a_row_claimed_by_a_worker_that_died_is_taken_again_after_the_lease(make, clock):
    messenger = FlakyMessenger()
    app = make(messenger)
    create(app)
    from core.infra.outbox import claim

    with app.store.session() as session:
        assert len(claim(session, clock(), 10)) == 1  # a worker claims it, then crashes
    assert deliver(app) == 0
    clock.advance(minutes=6)
    assert deliver(app) == 1
    assert len(messenger.sent) == 1


def test_the_same_idempotency_key_is_enqueued_once(make, clock):
    app = make(FlakyMessenger())
    ids = people(app)
    with app.store.session() as session:
        first = enqueue(session, key="k1", recipient_id=ids["olga"], template="reminder", now=clock())
        second = enqueue(session, key="k1", recipient_id=ids["olga"], template="reminder", now=clock())
    assert first is not None and second is None
    assert len(statuses(app)) == 1


def test_a_notice_for_someone_not_reachable_yet_waits_for_them(make, clock):
    messenger = FlakyMessenger()
    app = make(messenger)
    with app.store.session() as session:
        pavel = session.exec(select(Person).where(Person.handle == "pavel")).one()
        pavel.handle = "unreachable"  # FlakyMessenger cannot reach this one
    create(app, assignee="unreachable")
    deliver(app)
    with app.store.session() as session:
        row = session.exec(select(Outbox)).one()
        assert (row.status, row.attempts) == ("pending", 0) and "waiting" in row.error
        session.get(Person, pavel.id).handle = "pavel"  # say, they just opened the bot
        from core.infra.outbox import wake

        wake(session, pavel.id, clock())
    deliver(app)
    assert [handle for handle, _ in messenger.sent] == ["pavel"]


def test_a_notice_nobody_could_deliver_for_a_week_is_failed_with_a_reason(make, clock):
    app = make(FlakyMessenger())
    with app.store.session() as session:
        session.exec(select(Person).where(Person.handle == "pavel")).one().handle = "unreachable"
    create(app, assignee="unreachable")
    for _ in range(8 * 24):
        deliver(app)
        clock.advance(hours=1)
    with app.store.session() as session:
        row = session.exec(select(Outbox).where(Outbox.template == "task_event")).one()
    assert row.status == "failed" and "in time" in row.error


def test_notices_are_rendered_in_the_recipients_language_and_zone(make):
    messenger = FlakyMessenger()
    app = make(messenger)
    ids = people(app)
    with app.store.session() as session:
        tasks.create_task(session, ids["pavel"], "Сверить счёт", assignee_id=ids["olga"],
                          watcher_ids_=(ids["maria"],), due_at=app.clock() + timedelta(days=1), now=app.clock())
    deliver(app)
    seen = dict(messenger.sent)
    assert "1 Dec, 10:00" in seen["olga"]  # English, Moscow
    assert "1 дек., 10:00" in seen["maria"]  # the org's Russian


def test_a_notice_given_up_on_is_shown_to_the_admins(make, clock):
    messenger = FlakyMessenger(failures=1, error=DeliveryError("Forbidden: bot was blocked by the user", permanent=True))
    app = make(messenger)
    create(app)  # a notice to pavel, who blocked the bot
    deliver(app)
    assert [handle for handle, _ in messenger.sent] == ["olga"]  # the demo org's admin
    assert "could not deliver a message to Pavel Smirnov (#1): Forbidden: bot was blocked by the user" in messenger.sent[0][1]


def test_a_worker_killed_mid_send_leaves_the_notice_in_doubt_and_it_is_reconciled(make, clock):
    """Where the platform can say whether the message landed, nothing is sent twice."""

    class Reconciling(FlakyMessenger):
        def __init__(self):
            super().__init__()
            self.looked_up = []

        async def reconcile(self, person, target, message):
            self.looked_up.append(message.key)
            landed = [i for i, (handle, text) in enumerate(self.sent) if handle == person.handle]
            return Sent("fake", person.handle, str(landed[-1] + 1)) if landed else None

    messenger = Reconciling()
    app = make(messenger)
    create(app)
    from core.infra.outbox import claim

    with app.store.session() as session:  # a worker claims the row, marks it sending, sends, dies
        row = claim(session, clock(), 10)[0]
        row.status = "sending"
    messenger.sent.append(("pavel", "the copy that landed before the crash"))
    clock.advance(minutes=2)
    deliver(app)
    assert messenger.looked_up and len(messenger.sent) == 1
    assert statuses(app) == [("sent", 1)]


def test_a_slow_worker_whose_lease_ran_out_does_not_send_what_another_took(make, clock):
    messenger = FlakyMessenger()
    app = make(messenger)
    create(app)
    from core.infra.outbox import claim

    with app.store.session() as session:  # worker A claims, then stalls past its lease
        row_id, claimed_at = [(row.id, row.claimed_at) for row in claim(session, clock(), 10)][0]
    clock.advance(minutes=2)
    assert deliver(app) == 1  # worker B takes it over and sends it
    asyncio.run(app.delivery._deliver(row_id, claimed_at))  # worker A wakes up
    assert [handle for handle, _ in messenger.sent] == ["pavel"]
