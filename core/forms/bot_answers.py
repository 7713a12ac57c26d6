"""What a bot step's service answers, now or by callback, and what happens when it fails.

An answer is JSON: {"decision": "approve" | "reject" | <outcome id> | "wait",
"comment": "…", "fields": {"field_id": value}}. Its fields are checked like a
person's input. A bad answer is never swallowed: it is recorded on the request,
told to its author and the admins, and the step waits for an admin instead.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.errors import Refusal
from core.domain.models import FormRequest, RequestStep, StepAssignee
from core.forms import who
from core.forms.decisions import apply
from core.forms.guards import record_decision
from core.forms.history import Walk, ask, event, join, tell, walk_for
from core.forms.signing import secret_of, verify
from core.forms.submission import merge
from core.forms.values import Context

WAIT = "wait"


class BadAnswer(Exception):
    """The service's answer cannot be used; the message says why (for the admins)."""


def apply_answer(walk: Walk, row: RequestStep, answer) -> str:
    """Use an answer: fill fields, then decide or wait. Returns the decision; BadAnswer when unusable."""
    if not isinstance(answer, dict):
        raise BadAnswer("the answer is not a JSON object")
    step = walk.form.step(row.step_key)
    decision, comment = answer.get("decision"), answer.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise BadAnswer("comment must be text")
    if decision not in (None, WAIT, "approve", "reject") and step.outcome(str(decision)) is None:
        raise BadAnswer(f"unknown decision {str(decision)[:40]!r}")
    fields = answer.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadAnswer("fields must be an object")
    try:
        ctx = Context(walk.session, walk.author.id, walk.now, walk.request.timezone)
        walk.request.values = merge(ctx, walk.form, walk.request.values, fields, stage=walk.form.index(step.id),
                                    allowed=set(step.fields) or None)
    except Refusal as exc:
        raise BadAnswer(f"fields: {exc}") from None
    walk.session.add(walk.request)
    if decision is None and not step.wait:
        raise BadAnswer("no decision: answer approve, reject, an outcome, or wait")
    if decision in (None, WAIT):
        row.state, row.next_ping_at = "waiting", row.due_at
        walk.session.add(row)
        event(walk, "bot_waiting", step=row.step_key, step_label=dict(step.label.texts), comment=comment)
        return WAIT
    record_decision(walk, row, decision, (comment or "")[:2000] or None)
    apply(walk, step, row, decision, (comment or "")[:2000] or None)
    return decision


def give_up(walk: Walk, row: RequestStep, reason: str) -> None:
    """The bot failed: say so on the request, to its author and admins; an admin decides the step."""
    step = walk.form.step(row.step_key)
    walk.request.problem = reason[:1000]
    walk.session.add(walk.request)
    admins = [p.id for p in who.admins(walk.session)]
    # A version bump: the step now waits for other people (see guards.claim).
    row.state, row.next_ping_at, row.version = "open", None, row.version + 1
    walk.session.add(row)
    for person_id in admins:
        if walk.session.get(StepAssignee, (row.id, person_id)) is None:
            walk.session.add(StepAssignee(step_id=row.id, person_id=person_id, since=to_db(walk.now)))
    walk.current = None  # its people changed: whoever needs them reads them again
    join(walk, admins)
    event(walk, "bot_failed", step=row.step_key, step_label=dict(step.label.texts), reason=reason[:300])
    tell(walk, [walk.author.id, *admins], "bot_problem", f"{row.id}:{row.attempts}", step_id=row.id,
         reason=reason[:300])
    ask(walk, row, admins)


def handle_callback(store, body: bytes, signature: str | None, *, now: datetime) -> tuple[int, dict]:
    """The endpoint a bot step's service calls later: POST {"step": <id>, "decision": …} signed
    with the form's secret. Returns (HTTP status, JSON body) for the web server to send: 400 not
    JSON with a step id, 401 no such bot step or a bad signature (the same answer, so step ids
    cannot be probed without a secret), 409 the step no longer waits (decided, or given up),
    422 a bad answer (recorded), 200 done."""
    answer, step_id = _read(body)
    if step_id is None:
        return 400, {"error": "the body must be JSON with the step's id: {\"step\": 17, \"decision\": …}"}
    with store.session() as session:
        row = None
        if 0 < step_id < 2 ** 31:  # beyond the id column PostgreSQL would refuse the comparison
            row = session.exec(select(RequestStep).where(RequestStep.id == step_id).with_for_update()).first()
        walk = _walk(session, row, now) if row is not None and row.kind == "bot" else None
        if walk is None or not verify(secret_of(walk.form), body, signature):
            return 401, {"error": "unknown step or bad signature"}
        if row.state not in ("waiting", "calling"):
            return 409, {"error": "the step is not waiting for an answer", "state": row.state}
        try:
            decision = apply_answer(walk, row, answer)
        except BadAnswer as exc:
            give_up(walk, row, f"bad callback: {exc}")
            return 422, {"error": str(exc)}
        return 200, {"ok": True, "decision": decision, "request": walk.request.state}


def _read(body: bytes) -> tuple[dict | None, int | None]:
    """The answer and its step id, or (…, None) when the body is not one: the id is a whole
    number or its digits (a float like 1e400 or a bool is not)."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    step = answer.get("step") if isinstance(answer, dict) else None
    if isinstance(step, str) and step.isascii() and step.isdigit() and len(step) < 20:
        step = int(step)
    if not isinstance(step, int) or isinstance(step, bool):
        return answer, None
    return answer, step


def _walk(session: Session, row: RequestStep, now: datetime) -> Walk | None:
    request = session.get(FormRequest, row.request_id)
    return walk_for(session, request, None, now) if request else None
