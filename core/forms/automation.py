"""What moves a request with nobody tapping: bot steps (signed JSON to a service, its answer
now or by callback) and step deadlines (reminders, escalation), on the scheduler's clock.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

import aiohttp
from sqlmodel import Session, col, select

from core.domain import workdays
from core.domain.clock import to_db
from core.domain.errors import Refusal
from core.domain.models import FormRequest, Person, RequestStep, StepAssignee
from core.forms.records import Walk, admins, ask, event, has_level, join, people, tell, walk_for
from core.forms.requests import apply
from core.forms.route import close, open_step, record_decision
from core.forms.schema import Form, Step, due_after
from core.forms.values import Context, merge


# Signed JSON between Teamflow and the services behind bot steps.
#
# Every request Teamflow sends, and every callback it accepts, carries
# `X-Teamflow-Signature: sha256=<hex>`: the HMAC-SHA256 of the exact body bytes
# with the form's secret (`secret_env: NAME` in the form file names the
# environment variable holding it). Outgoing webhooks on task and request
# events (core/infra/webhooks.py) sign the same way, with the hook's secret from the
# org file. The scheme has no timestamp: a replayed callback is refused once its
# step is settled (409), and a webhook receiver dedupes by X-Teamflow-Event-Id.

SIGNATURE_HEADER = "X-Teamflow-Signature"
DELIVERY_HEADER = "X-Teamflow-Delivery"  # the same id on a retry of the same call


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a signature; no secret means nothing verifies, and
    a header of any odd text (non-ASCII included) is simply a wrong signature."""
    given = (signature or "").strip().encode("utf-8", "surrogateescape")
    return bool(secret) and hmac.compare_digest(sign(secret, body).encode("ascii"), given)


def secret_of(form: Form, environ: Mapping[str, str] = os.environ) -> str | None:
    """The form's secret: the variable its file names, else the one written in the file."""
    if form.secret_env and environ.get(form.secret_env):
        return environ[form.secret_env]
    return form.secret


def encode(payload: dict) -> bytes:
    """The body bytes that get signed (compact, stable key order)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# What a bot step's service answers, now or by callback, and what happens when it fails.
#
# An answer is JSON: {"decision": "approve" | "reject" | <outcome id> | "wait",
# "comment": "…", "fields": {"field_id": value}}. Its fields are checked like a
# person's input. A bad answer is never swallowed: it is recorded on the request,
# told to its author and the admins, and the step waits for an admin instead.

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
    admin_ids = [p.id for p in admins(walk.session)]
    # A version bump: the step now waits for other people (see claim in core.forms.route).
    row.state, row.next_ping_at, row.version = "open", None, row.version + 1
    walk.session.add(row)
    for person_id in admin_ids:
        if walk.session.get(StepAssignee, (row.id, person_id)) is None:
            walk.session.add(StepAssignee(step_id=row.id, person_id=person_id, since=to_db(walk.now)))
    walk.current = None  # its people changed: whoever needs them reads them again
    join(walk, admin_ids)
    event(walk, "bot_failed", step=row.step_key, step_label=dict(step.label.texts), reason=reason[:300])
    tell(walk, [walk.author.id, *admin_ids], "bot_problem", f"{row.id}:{row.attempts}", step_id=row.id,
         reason=reason[:300])
    ask(walk, row, admin_ids)


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


# Bot steps: the request goes as signed JSON to the form's service, with a timeout and retries.
#
# `run_due` is the scheduler's job (and a test's): claim the bot calls that are
# due (SKIP LOCKED: one worker per call), POST each outside any transaction,
# then settle the answer in a new one. A call whose worker died is claimed
# again after its lease. Each attempt has its own `X-Teamflow-Delivery` id
# (<step>:<attempt>); the body names the step, so a service can tell a retry.
#
# A service that answers later calls back: the payload's `step.callback` holds
# the step's id and the path to POST to on Teamflow's web server,
# `/forms/callback` (the service knows Teamflow's public address, as it is
# configured to call it back; the settings of PRODUCT.md name no public URL).
# `core.forms.handle_callback` is what the web server runs for that endpoint.

LEASE = timedelta(minutes=2)  # beyond any timeout: then the call counts as lost and is made again
BACKOFF = timedelta(seconds=30)  # doubled on each retry
BATCH = 20
CALLBACK_PATH = "/forms/callback"  # where the web server (bot/runtime.py) takes a service's later answer


@dataclass(frozen=True)
class Call:
    step_id: int
    attempt: int
    url: str
    body: bytes
    secret: str | None
    timeout: float


async def run_due(store, now: datetime, *, http: aiohttp.ClientSession | None = None,
                  environ: Mapping[str, str] = os.environ, callback: str = CALLBACK_PATH) -> int:
    """Make every due bot call; returns how many were made. `callback`: the URL services call back."""
    calls = claim(store, now, environ, callback)
    if not calls:
        return 0
    own = http is None
    http = http or aiohttp.ClientSession()
    try:
        for call in calls:
            settle(store, call, await post(http, call), now)
    finally:
        if own:
            await http.close()
    return len(calls)


def claim(store, now: datetime, environ: Mapping[str, str], callback: str = CALLBACK_PATH) -> list[Call]:
    """Take the due calls: each gets a new attempt number and a lease."""
    with store.session() as session:
        rows = session.exec(select(RequestStep).where(RequestStep.state == "calling",
                                                      RequestStep.next_ping_at <= to_db(now))
                            .order_by(RequestStep.next_ping_at).limit(BATCH).with_for_update(skip_locked=True)).all()
        calls = []
        for row in rows:
            row.attempts, row.next_ping_at = row.attempts + 1, to_db(now + LEASE)
            session.add(row)
            walk = walk_for(session, session.get(FormRequest, row.request_id), None, now)
            step = walk.form.step(row.step_key)
            calls.append(Call(row.id, row.attempts, step.url, encode(payload(walk, row, callback)),
                              secret_of(walk.form, environ), step.timeout))
        return calls


def payload(walk, row: RequestStep, callback: str = CALLBACK_PATH) -> dict:
    """What the service gets: the request, its values, the step, and how to call back."""
    return {"event": "bot_step", "delivery": f"{row.id}:{row.attempts}",
            "request": {"id": walk.request.id, "task_id": walk.task.id, "form": walk.form.id,
                        "author": walk.author.handle, "values": walk.request.values, "state": walk.request.state},
            "step": {"id": row.id, "key": row.step_key, "callback": {"step": row.id, "url": callback}}}


async def post(http: aiohttp.ClientSession, call: Call) -> tuple[int | None, str]:
    """(HTTP status, body), or (None, why) when the call did not get an answer."""
    if not call.secret:
        return None, "the form has no secret to sign with (secret_env names an unset variable)"
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(call.secret, call.body),
               DELIVERY_HEADER: f"{call.step_id}:{call.attempt}"}
    try:
        async with http.post(call.url, data=call.body, headers=headers,
                             timeout=aiohttp.ClientTimeout(total=call.timeout)) as response:
            return response.status, (await response.text())[:20000]
    except asyncio.TimeoutError:
        return None, f"no answer within {call.timeout:g} s"
    except aiohttp.ClientError as exc:
        return None, f"cannot reach the service: {exc.__class__.__name__}: {exc}"[:300]


def settle(store, call: Call, result: tuple[int | None, str], now: datetime) -> None:
    """Use the answer, retry later, or give up, unless someone settled this call meanwhile."""
    status, text = result
    with store.session() as session:
        row = session.exec(select(RequestStep).where(RequestStep.id == call.step_id).with_for_update()).first()
        if row is None or row.state != "calling" or row.attempts != call.attempt:
            return  # a callback or an admin got there first
        walk = walk_for(session, session.get(FormRequest, row.request_id), None, now)
        step = walk.form.step(row.step_key)
        if status is None or status >= 500 or status == 429:
            reason = text if status is None else f"the service answered HTTP {status}"
            if row.attempts <= step.retries:
                row.next_ping_at = to_db(now + BACKOFF * 2 ** (row.attempts - 1))
                session.add(row)
            else:
                give_up(walk, row, f"{reason} (after {row.attempts} attempts)")
            return
        try:
            if status >= 300 and status != 202:
                raise BadAnswer(f"the service answered HTTP {status}: {text[:200]}")
            apply_answer(walk, row, json.loads(text) if text.strip() else {"decision": "wait"})
        except (BadAnswer, ValueError) as exc:
            give_up(walk, row, f"bad answer: {exc}")


# Step deadlines: past one, the step's people are reminded, or the step escalates.
#
# A step with `escalate: true` goes, at its deadline, to the manager of each
# person it waits for (a chain step climbs one level), with a fresh deadline,
# so an unanswered escalation climbs by itself up to the top. Otherwise (and
# at the top) the people are reminded every `remind_every` until it is done.
# The scheduler calls `tick` with `now`; rows are claimed with SKIP LOCKED, so
# two workers never remind twice.

DUE_BATCH = 200


def tick(store, now: datetime) -> int:
    """Handle every step whose deadline or next reminder has come; returns how many."""
    with store.session() as session:
        rows = list(session.exec(
            select(RequestStep).where(col(RequestStep.state).in_(("open", "waiting")),
                                      RequestStep.next_ping_at <= to_db(now))
            .order_by(RequestStep.next_ping_at).limit(DUE_BATCH).with_for_update(skip_locked=True)))
        for row in rows:
            overdue(session, row, now)
        return len(rows)


def overdue(session: Session, row: RequestStep, now: datetime) -> None:
    """One step past its deadline (or its last reminder): escalate it, or remind its people."""
    walk = walk_for(session, session.get(FormRequest, row.request_id), None, now)
    step = walk.form.step(row.step_key)
    if row.kind == "bot" and row.state == "waiting":
        give_up(walk, row, "no answer before the step's deadline")
        return
    if step is not None and step.escalate and escalate(walk, step, row):
        return
    ask(walk, row, people(walk, row).pending(), reason="reminder")
    row.reminders += 1
    row.next_ping_at = to_db(now + step.remind_every) if step else None
    session.add(row)


def escalate(walk: Walk, step: Step, row: RequestStep) -> bool:
    """Hand the step up one level; False when there is nobody above (then remind instead)."""
    if step.is_chain:
        if not has_level(walk.session, walk.author, row.level + 1):
            return False
        close(walk, row, "escalated")
        event(walk, "escalated", step=row.step_key, step_label=dict(step.label.texts))
        open_step(walk, step, row.level + 1)
        return True
    moved = _to_managers(walk, row)
    if not moved:
        return False
    row.due_at = row.next_ping_at = to_db(due_after(walk.now, step.deadline, walk.request.timezone,
                                                      workdays.load(walk.session)))
    row.version += 1  # the step waits for other people now: a decider who read the old ones reads again
    walk.session.add(row)
    walk.current = None
    join(walk, moved)
    ask(walk, row, moved, reason="escalated")
    names = [walk.session.get(Person, p).name for p in moved]
    event(walk, "escalated", step=row.step_key, step_label=dict(step.label.texts), to=names)
    return True


def _to_managers(walk: Walk, row: RequestStep) -> list[int]:
    """Each waited-for person's manager takes their place (they decide on their behalf)."""
    session, moved = walk.session, []
    for assignee in session.exec(select(StepAssignee).where(StepAssignee.step_id == row.id,
                                                            StepAssignee.state == "pending")).all():
        person = session.get(Person, assignee.person_id)
        manager = session.get(Person, person.manager_id) if person.manager_id else None
        if manager is None or not manager.active or session.get(StepAssignee, (row.id, manager.id)):
            continue
        assignee.state = "escalated"
        session.add(assignee)
        session.add(StepAssignee(step_id=row.id, person_id=manager.id, on_behalf_of=person.id, since=to_db(walk.now)))
        moved.append(manager.id)
    session.flush()
    return moved
