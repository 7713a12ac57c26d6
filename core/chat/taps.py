"""A button's command as a tap code, and back: what a platform puts in callback data or a value.

Telegram's callback_data holds 64 bytes, and a Slack value can be forged by
anyone who can sign a request, so a command travels as four short parts —
feature, verb, id, arg — e.g. ("t", "done", 42, ""), ("s", "dc", 42, "17_2").
`unpack` checks the shape and builds the typed command, or says None for data
we never made; the core still checks every id and permission when it runs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from core.chat.parsing import valid_text
from core.services import commands as c

SNOOZE_CHOICES = c.SNOOZE_CHOICES
ARG = re.compile(r"^[\w-]{0,40}$")
STEP_ARG = re.compile(r"^(\d{1,12})(?:_(\d{1,3}))?$")
ID_MAX = 2 ** 31 - 1


@dataclass(frozen=True)
class Tap:
    """A command in four short parts."""

    feature: str  # t: a task, s: a request's step, f: filling a form, a: an announcement
    verb: str
    id: int
    arg: str = ""


TASK = {"done": c.CloseTask, "reopen": c.ReopenTask, "take": c.TakeTask, "watch": c.WatchTask}
STEP = {"ap": c.ApproveStep, "rj": c.RejectStep, "ak": c.AcknowledgeStep, "cp": c.CompleteStep,
        "dc": c.ChooseOutcome}
FILL = {"skip": c.SkipField, "back": c.BackField}
FORM = {"send": c.SubmitForm, "cancel": c.CancelForm}


def pack(command: c.Command) -> Tap:
    """The tap code of a button's command; ValueError for a command no button carries."""
    kind = type(command)
    if kind in TASK.values() or kind is c.ShowTask:
        return Tap("t", _key(TASK, kind) if kind is not c.ShowTask else "show", command.task_id)
    if kind is c.CommentTask:
        return Tap("t", "comment", command.task_id)
    if kind is c.SnoozeTask:
        return Tap("t", "snooze", command.task_id, _key(SNOOZE_CHOICES, command.when) if command.when else "")
    if isinstance(command, c.StepCommand):
        outcome = f"_{command.outcome}" if isinstance(command, c.ChooseOutcome) else ""
        return Tap("s", _key(STEP, kind), command.task_id, f"{command.step_id}{outcome}")
    if kind is c.PickAnswer:
        return Tap("f", "pick", command.position, command.answer)
    if kind in FILL.values():
        return Tap("f", _key(FILL, kind), command.position if command.position is not None else 0)
    if kind in FORM.values():
        return Tap("f", _key(FORM, kind), 0)
    if kind is c.Rsvp:
        return Tap("a", command.answer, command.announcement_id)
    if kind is c.CloseAnnouncement:
        return Tap("a", "close", command.announcement_id)
    raise ValueError(f"no button carries {kind.__name__}")


def unpack(tap: Tap) -> c.Command | None:
    """The command a tap code stands for; None for one we never made (forged, or from an older build)."""
    if not (0 <= tap.id <= ID_MAX and ARG.match(tap.arg or "")):
        return None
    build = {"t": _task, "s": _step, "f": _fill, "a": _announcement}.get(tap.feature)
    return build(tap.verb, tap.id, tap.arg or "") if build else None


def answered(command: c.Command, text: str) -> c.Command:
    """A button's command with what it asked for (a comment, a time, a reason) filled in."""
    field = c.asks(command)
    return replace(command, **{field: valid_text(text)}) if field else command


def _task(verb: str, task_id: int, arg: str) -> c.Command | None:
    if verb in TASK and not arg:
        return TASK[verb](task_id)
    if verb == "show" and not arg:
        return c.ShowTask(task_id)
    if verb == "comment" and not arg:
        return c.CommentTask(task_id)
    if verb == "snooze" and (not arg or arg in SNOOZE_CHOICES):
        return c.SnoozeTask(task_id, SNOOZE_CHOICES.get(arg))
    return None


def _step(verb: str, task_id: int, arg: str) -> c.Command | None:
    found = STEP_ARG.match(arg)
    if verb not in STEP or found is None or (found.group(2) is not None) != (verb == "dc"):
        return None
    if verb == "dc":
        return c.ChooseOutcome(task_id, int(found.group(1)), outcome=found.group(2))
    return STEP[verb](task_id, int(found.group(1)))


def _fill(verb: str, position: int, arg: str) -> c.Command | None:
    if verb == "pick" and arg:
        return c.PickAnswer(position, arg)
    if verb in FILL and not arg:
        return FILL[verb](position)
    if verb in FORM and not arg and position == 0:
        return FORM[verb]()
    return None


def _announcement(verb: str, announcement_id: int, arg: str) -> c.Command | None:
    if verb in ("in", "out") and not arg:
        return c.Rsvp(announcement_id, verb)
    if verb == "close" and not arg:
        return c.CloseAnnouncement(announcement_id)
    return None


def _key(table: dict, value) -> str:
    return next(k for k, v in table.items() if v == value)
