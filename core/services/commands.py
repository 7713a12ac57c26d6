"""Commands: what a person asks Teamflow to do, as typed values.

Every way in builds one of these — a typed line (core/chat/text.py reads the text),
a button (it carries its command), a modal, later the web board — and hands it
to the bus (core/services/bus.py). A command is an order in the imperative (`CloseTask`);
what happened is recorded as events. Fields are plain values: ids, text as the
person wrote it, a parsed time; a field left None on a button's command is
what the button asks for first (`ASKS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class Command:
    """A base for every command, so the bus can tell them from anything else."""


@dataclass(frozen=True)
class TypedText(Command):
    """A line typed in a chat: read into one of the commands below, inside the same unit of work."""

    text: str


# ----- tasks ---------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTask(Command):
    title: str
    assignee: str | None = None  # a handle, resolved in the unit of work
    watchers: tuple[str, ...] = ()
    due: datetime | None = None
    description: str = ""
    repeat: str | None = None  # "monday 10:00" from "every monday 10:00"


@dataclass(frozen=True)
class ListTasks(Command):
    scope: str = "mine"  # mine, created, watching, overdue, all


@dataclass(frozen=True)
class ShowBoard(Command):
    pass


@dataclass(frozen=True)
class ShowTask(Command):
    task_id: int
    history: bool = True  # False: the card alone, as a tapped message is redrawn


@dataclass(frozen=True)
class CloseTask(Command):
    task_id: int


@dataclass(frozen=True)
class ReopenTask(Command):
    task_id: int


@dataclass(frozen=True)
class TakeTask(Command):
    task_id: int


@dataclass(frozen=True)
class WatchTask(Command):
    task_id: int


@dataclass(frozen=True)
class AssignTask(Command):
    task_id: int
    assignee: str  # a handle


@dataclass(frozen=True)
class SetDue(Command):
    task_id: int
    when: str  # as the person wrote it: read in their time zone


@dataclass(frozen=True)
class SnoozeTask(Command):
    task_id: int
    when: str | None = None  # None: the button asks until when


@dataclass(frozen=True)
class CommentTask(Command):
    task_id: int
    text: str | None = None  # None: the button asks for the comment


@dataclass(frozen=True)
class AttachLink(Command):
    task_id: int
    url: str


@dataclass(frozen=True)
class AttachFile(Command):
    """A file sent as a reply to a task's card (by its platform's file id)."""

    task_id: int
    file_id: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class LinkTasks(Command):
    task_id: int
    other_id: int


# ----- repeating tasks, announcements, people ---------------------------------------


@dataclass(frozen=True)
class ListRecurring(Command):
    pass


@dataclass(frozen=True)
class StopRecurring(Command):
    recurring_id: int


@dataclass(frozen=True)
class Announce(Command):
    text: str
    post_at: datetime | None = None


@dataclass(frozen=True)
class CloseAnnouncement(Command):
    announcement_id: int


@dataclass(frozen=True)
class Rsvp(Command):
    announcement_id: int
    answer: str  # in, out


@dataclass(frozen=True)
class ChangeSettings(Command):
    args: str = ""  # "tz Europe/Moscow lang ru"; empty: show them


@dataclass(frozen=True)
class Invite(Command):
    pass


@dataclass(frozen=True)
class Help(Command):
    pass


# ----- forms: deciding a request's step, filling a form ------------------------------


@dataclass(frozen=True)
class StepCommand(Command):
    """A decision on a request's current step. `step_id` comes with a button (that step
    instance, so a tap on an old card is refused); typed, the step is whatever is open now."""

    task_id: int
    step_id: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class ApproveStep(StepCommand):
    pass


@dataclass(frozen=True)
class RejectStep(StepCommand):
    """The reason is the comment; a button asks for it."""


@dataclass(frozen=True)
class AcknowledgeStep(StepCommand):
    pass


@dataclass(frozen=True)
class CompleteStep(StepCommand):
    pass


@dataclass(frozen=True)
class ChooseOutcome(StepCommand):
    outcome: str | None = None  # an outcome's id, or its number on the step (buttons carry the number)


@dataclass(frozen=True)
class StartForm(Command):
    """Start filling a form (attached to a task when one is named); no name: list the forms."""

    name: str | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class Escalate(Command):
    """The escalation form, its problem filled in."""

    problem: str


@dataclass(frozen=True)
class ListApprovals(Command):
    pass


@dataclass(frozen=True)
class WithdrawRequest(Command):
    task_id: int


@dataclass(frozen=True)
class PickAnswer(Command):
    """A tapped answer to the question at `position` (a choice, yes/no, a person)."""

    position: int
    answer: str


@dataclass(frozen=True)
class SkipField(Command):
    position: int | None = None  # from a button: the question it was on; typed: the one asked now


@dataclass(frozen=True)
class BackField(Command):
    position: int | None = None


@dataclass(frozen=True)
class SubmitForm(Command):
    pass


@dataclass(frozen=True)
class CancelForm(Command):
    pass


# The preset snooze times a card offers (by their tap codes), as the person would type them.
SNOOZE_CHOICES = {"1h": "in 1 hour", "tomorrow": "tomorrow 9:00", "monday": "next monday 9:00"}
# What a button's command asks the person before it can run: the field left None.
ASKS = {SnoozeTask: "when", CommentTask: "text", RejectStep: "comment"}
# Commands that go on filling a form: their answer is the next question, not a redrawn card.
FILLING = (PickAnswer, SkipField, BackField, SubmitForm, CancelForm)


def asks(command: Command) -> str | None:
    """The field a button's command still needs from the person, or None when it can run."""
    field = ASKS.get(type(command))
    return field if field is not None and getattr(command, field) is None else None
