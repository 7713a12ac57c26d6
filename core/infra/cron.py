"""When a weekly rule fires next: APScheduler's CronTrigger, kept out of the use cases."""
from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from core.domain.clock import zone


def next_fire(day_of_week: str, hour: int, minute: int, tz: str, after: datetime) -> datetime:
    """The first time the rule fires strictly after `after` (aware), in zone `tz`."""
    trigger = CronTrigger(day_of_week=day_of_week, hour=hour, minute=minute, timezone=zone(tz))
    fire = trigger.get_next_fire_time(None, after)
    if fire is not None and fire <= after:
        fire = trigger.get_next_fire_time(fire, fire.replace(microsecond=0) + timedelta(seconds=1))
    return fire
