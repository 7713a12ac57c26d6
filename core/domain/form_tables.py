"""The tables of forms and approval routes (core/forms): form versions, requests, their steps,
who is on each step, the decisions, and the drafts being filled."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class FormVersion(SQLModel, table=True):
    """A form file's text as it was when a request started, keyed by its SHA-256.

    A request keeps walking the route it was submitted with, even after an
    admin edits the file; every worker reads the same definition from here.
    """

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of `source`
    form_id: str = Field(max_length=64, index=True)
    source: str = Field(sa_type=Text)
    created_at: datetime


class FormRequest(SQLModel, table=True):
    """A filled form walking its route; its task carries the comments, files and history."""

    __table_args__ = (UniqueConstraint("task_id", name="uq_formrequest_task_id"),)  # one form per task

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    form_id: str = Field(max_length=64, index=True)
    version_id: str = Field(foreign_key="formversion.id", max_length=64)
    author_id: int = Field(foreign_key="person.id", index=True)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="active", max_length=16)  # active | rework | done | rejected | cancelled
    # The open step instance (no foreign key: the two tables would point at each other).
    current_step_id: Optional[int] = None
    round: int = 0  # bumped on every rework, so a step's instances per round stay apart
    # The author's zone at submission: working-day deadlines and dates are read in it.
    timezone: str = Field(default="UTC", max_length=64)
    problem: Optional[str] = Field(default=None, max_length=1000)  # the last bad answer of a bot
    created_at: datetime
    updated_at: datetime
    closed_at: Optional[datetime] = None


class RequestStep(SQLModel, table=True):
    """One step of a request's route as it was opened: who, since when, until when, how it ended."""

    __table_args__ = (Index("ix_requeststep_due", "state", "next_ping_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="formrequest.id", index=True)
    step_key: str = Field(max_length=64)  # the step's id in the form file
    kind: str = Field(max_length=16)  # approve | acknowledge | work | decide | bot | rework
    mode: str = Field(default="any", max_length=8)  # all | any
    level: int = 0  # for manager-chain steps: 0 is the author's manager, 1 theirs, …
    round: int = 0
    # open | calling | waiting (bots) | approved | rejected | done | escalated | superseded
    state: str = Field(default="open", max_length=16)
    outcome: Optional[str] = Field(default=None, max_length=64)
    version: int = 0  # bumped by every decision: the compare-and-set that serialises deciders
    attempts: int = 0  # bot calls made
    due_at: Optional[datetime] = None  # the step's deadline
    next_ping_at: Optional[datetime] = None  # next reminder, escalation or bot call
    reminders: int = 0
    created_at: datetime
    closed_at: Optional[datetime] = None


class StepAssignee(SQLModel, table=True):
    """A person a step waits for (or waited for: decided, escalated past)."""

    __table_args__ = (Index("ix_stepassignee_person_state", "person_id", "state"),)

    step_id: int = Field(foreign_key="requeststep.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    state: str = Field(default="pending", max_length=16)  # pending | decided | escalated | released
    on_behalf_of: Optional[int] = Field(default=None, foreign_key="person.id")
    since: datetime


class StepDecision(SQLModel, table=True):
    """Who decided a step, when, how and why. One per person per step, enforced by the database."""

    __table_args__ = (UniqueConstraint("step_id", "person_id", name="uq_stepdecision_step_person"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="requeststep.id", index=True)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")  # None: the step's bot
    outcome: str = Field(max_length=64)  # approve | reject | ack | done | <a decide outcome>
    comment: Optional[str] = Field(default=None, max_length=2000)
    at: datetime


class FormDraft(SQLModel, table=True):
    """A form being filled in chat, field by field: one per person, dropped on submit or /cancel."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    form_id: str = Field(max_length=64)
    task_id: Optional[int] = None  # `/form <name> #42`: the task the form is attached to
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # field ids, in order
    updated_at: datetime
    # `/complete 42` on a work step whose fields are still empty: the step (its
    # instance) and the fields it asks, in order; None for a form being filled.
    step_id: Optional[int] = None
    asks: Optional[list[str]] = Field(default=None, sa_column=Column(JSON, nullable=True))
