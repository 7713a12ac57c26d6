"""Bot steps: the request goes as signed JSON to the form's service, with a timeout and retries.

`run_due` is the scheduler's job (and a test's): claim the bot calls that are
due (SKIP LOCKED: one worker per call), POST each outside any transaction,
then settle the answer in a new one. A call whose worker died is claimed
again after its lease. Each attempt has its own `X-Teamflow-Delivery` id
(<step>:<attempt>); the body names the step, so a service can tell a retry.

A service that answers later calls back: the payload's `step.callback` holds
the step's id and the path to POST to on Teamflow's web server,
`/forms/callback` (the service knows Teamflow's public address, as it is
configured to call it back; the settings of PRODUCT.md name no public URL).
`core.forms.handle_callback` is what the web server runs for that endpoint.
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

import aiohttp
from sqlmodel import select

from core.domain.clock import to_db
from core.domain.models import FormRequest, RequestStep
from core.forms.bot_answers import BadAnswer, apply_answer, give_up
from core.forms.history import walk_for
from core.forms.signing import DELIVERY_HEADER, SIGNATURE_HEADER, encode, secret_of, sign

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
