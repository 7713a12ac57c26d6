"""The buttons of a step's card, and reading what a typed step command names.

A button's command names the step instance (and the outcome's number on a
decide step), so a tap on an old card is refused as stale instead of deciding
whatever step the request has reached meanwhile. Typed commands may leave the
step out (`/approve 42 fine by me`, `/decide 42 refund`) or name it:

    /approve <task> [s<step>] [comment]      /reject <task> [s<step>] <reason>
    /ack <task> [s<step>] [comment]          /complete <task> [s<step>] [comment]
    /decide <task> [s<step>_]<outcome> [comment]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from core.domain.models import Person, RequestStep, StepAssignee
from core.forms import who
from core.forms.schema import UP, Step
from core.presentation.i18n import gettext_for
from core.presentation.messages import Button
from core.services import commands as c

STEP_ARG = re.compile(r"^s(\d{1,12})(?:_(\w{1,40}))?$")


@dataclass(frozen=True)
class ActionArgs:
    """`/approve 42 s17 fine` -> task 42, step 17, rest "fine"."""

    task_id: int
    step_id: int | None
    outcome: str | None
    rest: str


def read_action(args: str) -> ActionArgs | None:
    """Split a step command's arguments; None when there is no task number."""
    words = (args or "").strip().split(maxsplit=1)
    number = words[0].lstrip("#") if words else ""
    if not number.isdigit() or len(number) > 12:
        return None
    rest = words[1] if len(words) > 1 else ""
    marker = STEP_ARG.match(rest.split(maxsplit=1)[0]) if rest.strip() else None
    if marker is None:
        return ActionArgs(int(number), None, None, rest.strip())
    after = rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
    return ActionArgs(int(number), int(marker.group(1)), marker.group(2), after.strip())


def step_buttons(session: Session, task_id: int, row: RequestStep, step: Step | None, assignee: StepAssignee | None,
                 author_id: int, lang: str) -> list[list[Button]]:
    """What a person may tap on this step now (`assignee`: their place on it, as read with the step):
    nothing once it is over or not theirs."""
    _ = gettext_for(lang)
    if row.state != "open" or assignee is None or assignee.state != "pending":
        return []
    comment = Button(_("Comment"), c.CommentTask(task_id))
    if row.kind in ("approve", "bot") and not (step and step.outcomes):
        return [[Button(_("Approve"), c.ApproveStep(task_id, row.id)), Button(_("Reject"), c.RejectStep(task_id, row.id)),
                 comment]]
    if row.kind == "acknowledge":
        return [[Button(_("Got it"), c.AcknowledgeStep(task_id, row.id)), comment]]
    if row.kind in ("work", "rework"):
        return [[Button(_("Done"), c.CompleteStep(task_id, row.id)), comment]]
    climb = who.has_level(session, session.get(Person, author_id), row.level + 1)  # only a decide step asks
    choices = [Button(o.label.text(lang), c.ChooseOutcome(task_id, row.id, outcome=str(i)))
               for i, o in enumerate(step.outcomes if step else (), 1) if o.next != UP or climb]
    return [choices[i:i + 2] for i in range(0, len(choices), 2)] + [[comment]]
