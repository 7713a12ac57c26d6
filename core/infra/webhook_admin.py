"""For the admin: `teamflow webhooks` shows each hook's progress and what was given up on;
`teamflow webhooks replay <#>` sends one given-up event again."""
from __future__ import annotations

import os
from typing import Mapping

import aiohttp
from sqlalchemy import func
from sqlmodel import Session, select

from core.domain.models import TaskEvent, Webhook, WebhookFailure
from core.infra.webhooks import _batch, _event, _iso, post


def report(session: Session, *, last: int = 20) -> list[str]:
    """Each hook: how far it has sent, and whether it is failing; then the events given up on, newest first."""
    hooks = list(session.exec(select(Webhook).order_by(Webhook.key)))
    if not hooks:
        return ["no webhooks: add a webhooks section to the org file"]
    newest = session.exec(select(func.max(TaskEvent.id))).one() or 0
    lines = []
    for hook in hooks:
        state = "ok" if hook.failing_since is None else (
            f"failing since {_iso(hook.failing_since)} ({hook.error or 'no answer'}), "
            f"next try {_iso(hook.next_at) or 'now'}")
        lines.append(f"{hook.key}  {hook.url}  [{', '.join(hook.events)}]  "
                     f"sent or skipped up to event {hook.cursor} of {newest}  {state}")
    failures = list(session.exec(select(WebhookFailure).order_by(WebhookFailure.id.desc()).limit(last)))
    if failures:
        lines.append("given up (newest first):")
        lines += [f"  #{f.id}  {f.hook}  event {f.event_id} {f.event}  {_iso(f.at)}  after {f.attempts} tries: "
                  f"{f.reason}" for f in failures]
        lines.append("send one again with: teamflow webhooks replay <#>")
    return lines


async def replay(store, failure_id: int, *, http: aiohttp.ClientSession | None = None,
                 environ: Mapping[str, str] = os.environ) -> tuple[bool, str]:
    """Send one given-up event again, now, signed as before and with its own event id (receivers dedupe
    by it); taken (a 2xx), its failure record goes. Returns (taken, what happened)."""
    with store.session() as session:
        failure = session.get(WebhookFailure, failure_id)
        if failure is None:
            return False, f"no given-up event #{failure_id} (see teamflow webhooks)"
        hook = session.get(Webhook, failure.hook)
        if hook is None:
            return False, f"the webhook {failure.hook} is no longer in the org file"
        row = session.get(TaskEvent, failure.event_id)
        event = _event(session, row)
        batch = _batch(hook, [event], hook.cursor, environ)
    own = http is None
    http = http or aiohttp.ClientSession()
    try:
        status, text = await post(http, batch, event)
    finally:
        if own:
            await http.close()
    if status is not None and 200 <= status < 300:
        with store.session() as session:
            gone = session.get(WebhookFailure, failure_id)
            if gone is not None:
                session.delete(gone)
        return True, f"event {event.id} {event.name} taken by {hook.key} (HTTP {status})"
    said = f"HTTP {status}: {text}" if status is not None else text
    return False, f"event {event.id} {event.name} not taken by {hook.key}: {said}"
