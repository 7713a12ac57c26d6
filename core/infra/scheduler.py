"""The scheduler only ticks: it calls core services with `now` from the injected clock.

The database is the source of truth for what is due, so a restart loses
nothing: the first tick after start finds whatever came due meanwhile.
"""
from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.forms import automation as form_automation
from core.infra import webhooks
from core.services import announcements, birthdays, digest, recurring, reminders

OUTBOX_EVERY_S = 1
REMINDERS_EVERY_S = 20
BOTS_EVERY_S = 5
WEBHOOKS_EVERY_S = 5


def tick(app) -> None:
    """Everything time-driven that came due: reminders, announcements, repeats, digests, step deadlines."""
    now = app.clock()
    reminders.tick(app.store, now)
    announcements.tick(app.store, app.chat.platforms.channels, now)
    recurring.tick(app.store, now)
    # Step deadlines before the digests: a step escalated in this tick is listed for whom it went to, not
    # for the approver it was taken from.
    form_automation.tick(app.store, now)
    digest.tick(app.store, app.defaults, now)
    birthdays.tick(app.store, app.chat.platforms.channels, app.defaults.timezone, now)


async def call_bots(app) -> None:
    """Bot steps of form requests that are due a call (outside any transaction)."""
    await form_automation.run_due(app.store, app.clock(), callback=form_automation.CALLBACK_PATH)


async def send_webhooks(app) -> None:
    """Task and request events to the org file's webhooks (outside any transaction)."""
    await webhooks.run_due(app.store, app.clock())


def start(app) -> AsyncIOScheduler:
    """Start the ticks on the running event loop; the caller shuts it down."""
    scheduler = AsyncIOScheduler()
    scheduler.add_job(app.delivery.run_once, "interval", seconds=OUTBOX_EVERY_S, id="outbox",
                      max_instances=1, coalesce=True)
    scheduler.add_job(tick, "interval", args=[app], seconds=REMINDERS_EVERY_S, id="due",
                      max_instances=1, coalesce=True)
    scheduler.add_job(call_bots, "interval", args=[app], seconds=BOTS_EVERY_S, id="form_bots",
                      max_instances=1, coalesce=True)
    scheduler.add_job(send_webhooks, "interval", args=[app], seconds=WEBHOOKS_EVERY_S, id="webhooks",
                      max_instances=1, coalesce=True)
    scheduler.start()
    tick(app)  # whatever came due while we were down, now
    return scheduler
