"""The store's tables (SQLModel). Every change to a task is also a TaskEvent row.

Times are aware datetimes in UTC (SQLModel's UTCDateTime: timestamptz on
PostgreSQL, UTC without offset on SQLite). Statuses and columns are plain
strings holding enum values, so adding a value needs no database enum change.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    CANCELLED = "cancelled"


CLOSED_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)


class BoardColumn(StrEnum):
    """Kanban columns of /board."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    AWAITING = "awaiting"
    DONE = "done"


class Person(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    handle: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    email: Optional[str] = Field(default=None, max_length=254, index=True)
    telegram_id: Optional[int] = Field(default=None, index=True, unique=True, sa_type=BigInteger)
    telegram_username: Optional[str] = Field(default=None, max_length=64, index=True)
    slack_id: Optional[str] = Field(default=None, max_length=32, index=True, unique=True)
    timezone: Optional[str] = Field(default=None, max_length=64)
    language: Optional[str] = Field(default=None, max_length=8)
    # The language the person's chat app reports (Telegram language_code,
    # Slack locale): used when neither they nor the org file chose one.
    platform_language: Optional[str] = Field(default=None, max_length=8)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    manager_id: Optional[int] = Field(default=None, foreign_key="person.id")
    is_admin: bool = False
    active: bool = True
    # Set for people who joined with an invite instead of the org file; a
    # resync of the org file does not deactivate them.
    invited_by: Optional[int] = Field(default=None, foreign_key="person.id")
    birthday: Optional[date] = None
    # The local day of the last morning digest, so each tick finds only who is due.
    last_digest_on: Optional[date] = Field(default=None, index=True)
    created_at: datetime


class Task(SQLModel, table=True):
    __table_args__ = (
        Index("ix_task_status_due", "status", "due_at"),
        # Pages count and read tasks on index ranges, so they cost what they show, not what is stored.
        Index("ix_task_assignee_column", "assignee_id", "column", "closed_at"),
        Index("ix_task_creator_column", "creator_id", "column", "closed_at", "assignee_id"),
        Index("ix_task_column_due", "column", "due_at"),
        Index("ix_task_column_closed", "column", "closed_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=10000)
    creator_id: int = Field(foreign_key="person.id")
    assignee_id: Optional[int] = Field(default=None, foreign_key="person.id")
    due_at: Optional[datetime] = None
    snoozed_until: Optional[datetime] = None
    status: str = Field(default=TaskStatus.OPEN.value, max_length=24)
    column: str = Field(default=BoardColumn.TODO.value, max_length=24)
    created_at: datetime
    updated_at: datetime
    closed_at: Optional[datetime] = None


class TaskWatcher(SQLModel, table=True):
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)


class Comment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    body: str = Field(max_length=4000)
    created_at: datetime


class Attachment(SQLModel, table=True):
    """A file (by the platform's file id) or a link attached to a task."""

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=8)  # "file" | "link"
    url: Optional[str] = Field(default=None, max_length=2000)
    platform: Optional[str] = Field(default=None, max_length=16)
    file_id: Optional[str] = Field(default=None, max_length=300)
    name: Optional[str] = Field(default=None, max_length=300)
    mime_type: Optional[str] = Field(default=None, max_length=120)
    size: Optional[int] = None
    created_at: datetime


class TaskLink(SQLModel, table=True):
    """Two related tasks; stored once with the smaller id first."""

    __table_args__ = (UniqueConstraint("task_id", "other_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    other_id: int = Field(foreign_key="task.id", index=True)
    created_by: int = Field(foreign_key="person.id")
    created_at: datetime


class TaskEvent(SQLModel, table=True):
    """One change in a task's life; the history is these rows in order."""

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    actor_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime


class Reminder(SQLModel, table=True):
    """A ping due at a time. The scheduler claims due rows; the outbox sends them."""

    __table_args__ = (Index("ix_reminder_pending_due", "status", "due_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=24)  # before:<seconds> | at_due | overdue | snoozed
    due_at: datetime
    status: str = Field(default="pending", max_length=16)  # pending | sent | cancelled
    sent_at: Optional[datetime] = None


class Outbox(SQLModel, table=True):
    """A notice to deliver: written in the transaction that caused it."""

    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # idempotency key
    # A person (their private chat on their platform), or a channel: then
    # `platform` and `chat_id` name it and the org's language is used.
    recipient_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    chat_id: Optional[str] = Field(default=None, max_length=64)
    template: str = Field(max_length=64)
    task_id: Optional[int] = Field(default=None, foreign_key="task.id")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed
    attempts: int = 0
    available_at: datetime
    claimed_at: Optional[datetime] = None
    sent_at: Optional[datetime] = None
    platform: Optional[str] = Field(default=None, max_length=16)
    message_ref: Optional[str] = Field(default=None, max_length=200)
    error: Optional[str] = Field(default=None, max_length=1000)
    created_at: datetime


class InboxEntry(SQLModel, table=True):
    """An update a platform delivered, recorded before the platform is told "got it": handled once
    (its `handled_at` set in the transaction of its command), replayed after a crash."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_pending", "handled_at", "claimed_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # "telegram:<update_id>", "slack:<event or trigger id>"
    platform: str = Field(max_length=16)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the update as the platform sent it (JSON text), to handle it again
    received_at: datetime
    claimed_at: datetime  # when a worker took it, renewed while it lives; a replay waits for the lease
    claimed_by: str = Field(max_length=64)  # the worker (core.infra.inbox.worker_id)
    handled_at: Optional[datetime] = None
    attempts: int = 0
    error: Optional[str] = Field(default=None, max_length=1000)


class CardMessage(SQLModel, table=True):
    """A copy of a task card the bot has sent, so edits and replies map back."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_at: datetime


class Invite(SQLModel, table=True):
    """A one-time code an admin hands out; opening it makes a stranger a member."""

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    created_by: int = Field(foreign_key="person.id")
    created_at: datetime
    expires_at: datetime
    used_by: Optional[int] = Field(default=None, foreign_key="person.id")
    used_at: Optional[datetime] = None


class Announcement(SQLModel, table=True):
    """A post to the team's channels with RSVP buttons ("pizza at 13:00, who's in?")."""

    __table_args__ = (Index("ix_announcement_due", "status", "post_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    author_id: Optional[int] = Field(default=None, foreign_key="person.id")  # None: the bot itself
    kind: str = Field(default="rsvp", max_length=16)  # rsvp | birthday
    # Makes the bot's own announcements idempotent (one birthday post a year).
    dedupe_key: Optional[str] = Field(default=None, max_length=100, unique=True)
    text: str = Field(max_length=3000)
    post_at: datetime
    status: str = Field(default="scheduled", max_length=16)  # scheduled | posted | closed
    version: int = 0  # bumped on every change, so each redraw has its own idempotency key
    created_at: datetime
    closed_at: Optional[datetime] = None


class Rsvp(SQLModel, table=True):
    announcement_id: int = Field(foreign_key="announcement.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    answer: str = Field(max_length=8)  # in | out
    at: datetime


class AnnouncementPost(SQLModel, table=True):
    """A copy of an announcement in a channel, redrawn when the answers change."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)


class Recurrence(SQLModel, table=True):
    """A task that comes back: each occurrence's time creates the next instance.

    The rule is cron fields read by APScheduler's CronTrigger in the author's zone.
    """

    __table_args__ = (Index("ix_recurrence_due", "active", "next_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=10000)
    creator_id: int = Field(foreign_key="person.id")
    assignee_id: Optional[int] = Field(default=None, foreign_key="person.id")
    watcher_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    day_of_week: str = Field(default="*", max_length=32)
    day: str = Field(default="*", max_length=16)
    hour: int = 9
    minute: int = 0
    timezone: str = Field(max_length=64)
    next_at: datetime
    last_task_id: Optional[int] = Field(default=None, foreign_key="task.id")
    active: bool = True
    created_at: datetime


class Setting(SQLModel, table=True):
    """Org-wide settings from the org file that every worker reads (the reminder policy)."""

    key: str = Field(primary_key=True, max_length=64)
    value: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# ----- outgoing webhooks (core/infra/webhooks.py) -----------------------------------


class Webhook(SQLModel, table=True):
    """An outgoing webhook of the org file, and how far it has got through the task history.

    The org sync writes the first columns; the rest is the hook's progress:
    every TaskEvent up to `cursor` has been sent, or skipped (not subscribed,
    or given up on and recorded as a WebhookFailure).
    """

    key: str = Field(primary_key=True, max_length=500)  # the hook's name in the org file, else its URL
    url: str = Field(max_length=500)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # names or patterns
    secret_env: Optional[str] = Field(default=None, max_length=128)
    secret: Optional[str] = Field(default=None, max_length=500)
    timeout: float = 10.0  # seconds per call
    cursor: int = 0  # the last TaskEvent id sent or skipped
    claim: int = 0  # bumped by every claim: what a worker whose lease ran out reports is ignored
    next_at: Optional[datetime] = None  # not before: the lease of the worker sending, or the backoff
    attempts: int = 0  # failed tries of the event after the cursor
    gap_at: Optional[int] = None  # an event id missing while later ones exist (a transaction not committed yet)…
    gap_since: Optional[datetime] = None  # …seen missing since then
    failing_since: Optional[datetime] = None  # the first failure since the last success
    alerted: bool = False  # the admins have been told of this failing streak
    error: Optional[str] = Field(default=None, max_length=1000)  # the last failure
    sent: int = 0
    sent_at: Optional[datetime] = None
    created_at: datetime


class WebhookFailure(SQLModel, table=True):
    """An event a webhook's receiver never took: given up on, recorded here for the admins."""

    id: Optional[int] = Field(default=None, primary_key=True)
    hook: str = Field(max_length=500, index=True)
    event_id: int = Field(foreign_key="taskevent.id")
    event: str = Field(max_length=64)
    reason: str = Field(max_length=1000)
    attempts: int = 0
    at: datetime


# The form tables live beside these (core/domain/form_tables.py); import every table from here.
from core.domain.form_tables import (  # noqa: E402,F401
    FormDraft, FormRequest, FormVersion, RequestStep, StepAssignee, StepDecision,
)
