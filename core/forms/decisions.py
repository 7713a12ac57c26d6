"""Deciding the current step: approve, reject, acknowledge, complete work, choose an outcome.

Each use case takes the store session, the actor, the request's task id,
the step instance the button was made for (None when typed), plain values and
`now`. A stranger, a stale button or a step someone else just closed gets a
refusal; a repeated tap by the same person changes nothing (`changed=False`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.domain.errors import BadInput
from core.domain.models import FormRequest, RequestStep, Task
from core.forms import engine, who
from core.forms.guards import claim, prepare, record_decision
from core.forms.history import Walk, event, labels, people, step_data
from core.forms.phrases import Names
from core.forms.schema import UP, Step
from core.presentation.i18n import N_

REASON_NEEDED = N_("Say why you reject it, like: /reject %(id)s the amount is over budget")
COMMENT_TOO_LONG = N_("That comment is %(length)s characters long; the limit is %(max)s.")
UNKNOWN_OUTCOME = N_("Choose one of: %(choices)s.")
TOP_OF_CHAIN = N_("There is nobody above to escalate #%(id)s to.")
COMMENT_MAX = 2000


@dataclass
class RequestOutcome:
    """What a request use case did: the request, its task, the step acted on."""

    request: FormRequest
    task: Task
    step: RequestStep | None = None
    changed: bool = True  # False: the same tap again, nothing happened
    walk: Walk | None = None  # what the move read and changed: the answer's card is drawn from it


def approve(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
            comment: str | None = None) -> RequestOutcome:
    """Approve the current approval step (or a bot step an admin took over)."""
    return _decide(session, actor_id, task_id, step_id, ("approve", "bot"), "approve", comment, now)


def reject(session: Session, actor_id: int, task_id: int, reason: str, *, now: datetime,
           step_id: int | None = None) -> RequestOutcome:
    """Reject with a reason: the route ends, or returns for rework, as the form says."""
    if not (reason or "").strip():
        raise BadInput(REASON_NEEDED, id=task_id)
    return _decide(session, actor_id, task_id, step_id, ("approve", "bot"), "reject", reason, now)


def acknowledge(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
                comment: str | None = None) -> RequestOutcome:
    """"I have read it" on an acknowledge step."""
    return _decide(session, actor_id, task_id, step_id, ("acknowledge",), "ack", comment, now)


def choose(session: Session, actor_id: int, task_id: int, outcome: str, *, now: datetime,
           step_id: int | None = None, comment: str | None = None) -> RequestOutcome:
    """Pick one of a decide step's outcomes (by id, label, or number from 1)."""
    return _decide(session, actor_id, task_id, step_id, ("decide", "bot"), outcome, comment, now)


def _decide(session, actor_id, task_id, step_id, kinds, outcome, comment, now) -> RequestOutcome:
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, kinds, now)
    if assignee.state == "decided":
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    step = walk.form.step(row.step_key)
    if row.kind == "decide" or (row.kind == "bot" and outcome not in ("approve", "reject")):
        outcome = _outcome(step, outcome, task_id)
    comment = clean_comment(comment)
    chosen = step.outcome(outcome) if step else None
    if chosen is not None and chosen.next == UP and not can_climb(walk, row):
        raise BadInput(TOP_OF_CHAIN, id=task_id)
    claim(walk, row, task_id)
    if not record_decision(walk, row, outcome, comment):
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    apply(walk, step, row, outcome, comment)
    return RequestOutcome(walk.request, walk.task, row, walk=walk)


def apply(walk: Walk, step: Step, row: RequestStep, outcome: str, comment: str | None) -> None:
    """A recorded decision moves the route: close the step when it is decided, then go on."""
    chosen = step.outcome(outcome) if step else None
    event(walk, "decided", **step_data(step, row.step_key), outcome=outcome, comment=comment,
          outcome_label=labels(chosen.label) if chosen else None)
    if chosen is not None:  # a named outcome, even one called "reject", goes where the form says
        _go(walk, step, row, chosen)
    elif outcome == "reject":
        engine.close(walk, row, "rejected", outcome)
        engine.after_rejection(walk, step)
    elif row.mode == "any" or not people(walk, row).pending():
        engine.close(walk, row, "approved" if outcome == "approve" else "done", outcome)
        engine.after_approval(walk, step, row)


def _go(walk: Walk, step: Step, row: RequestStep, chosen) -> None:
    """A chosen outcome: up the chain, to the end, to a named step, or on."""
    if chosen.next == UP:
        engine.close(walk, row, "escalated", chosen.id)
        engine.open_step(walk, step, row.level + 1)
        return
    engine.close(walk, row, "done", chosen.id)
    if chosen.next:
        engine.advance(walk, target=chosen.next)
    else:
        engine.advance(walk, after=step)


def _outcome(step: Step, wanted: str, task_id: int) -> str:
    """An outcome by id or by its label in any language; up the chain only where there is someone."""
    text = (wanted or "").strip().casefold()
    if text.isdigit() and 0 < int(text) <= len(step.outcomes):
        return step.outcomes[int(text) - 1].id  # buttons carry the outcome's number
    for outcome in step.outcomes:
        if text == outcome.id or any(text == label.casefold() for _lang, label in outcome.label.texts):
            return outcome.id
    raise BadInput(UNKNOWN_OUTCOME, choices=Names.of(step.outcomes))


def clean_comment(comment: str | None) -> str | None:
    """A decision's comment, trimmed; None when empty; refused when too long."""
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise BadInput(COMMENT_TOO_LONG, length=len(text), max=COMMENT_MAX)
    return text or None


def can_climb(walk: Walk, row: RequestStep) -> bool:
    """Is there a manager above this chain step's current level?"""
    return who.has_level(walk.session, walk.author, row.level + 1)

