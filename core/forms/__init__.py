"""Forms and approval routes: the company's processes as YAML files, walked in chat.

A form file (core/forms/builtin/*.yaml; TEAMFLOW_FORMS_DIR adds or overrides by
id) declares typed fields with labels in Russian and English and a route of
steps: approve (all/any), acknowledge, work, decide (named outcomes), bot
(signed JSON to a service). Submitting a form creates a task that walks the
route; each step's people get a card with buttons, the author hears every
decision. Everything here is platform-neutral: adapters call these functions
with a resolved person id and plain values, and render what comes back.

The modules, inner ones first: `schema` (what a form file declares, as plain data),
`parser` (a form file's YAML -> that data, with lines), `catalog` (form files read,
checked and gathered by id), `readers` (one value typed in chat), `values` (a field's
value and a whole submission), `records` (a request in the store, who its steps name,
its moves and their history), `request_cards` (what a reader sees: values, a request's
card and buttons, /approvals, notices), `route` (who may act, steps opened and closed,
requests ended), `requests` (the use cases below), `automation` (bot steps, deadlines).

The API for the chat integration
--------------------------------
Loading (once, in the composition root)::

    forms = load_forms(settings.forms_dir, roles=…, people=…)   # -> Forms
    forms.all(); forms.get("payment_request")                   # -> Form | None
    check_forms(path, roles=…, people=…)   # a folder or one file -> [Problem(file, line, message)]

Filling (/form <name>, field by field or one modal; never trust the values)::

    may_start(session, person, form) -> bool
    fields_to_ask(form, values_so_far) -> [Field]   # ask again after each answer: show_if may change it
    read_value(Context(session, actor_id, now, tz), field, text) -> stored value | BadInput
    check_submission(ctx, form, values) -> values   # the whole form, as `start` will check it
    summary(session, form, values, lang, tz) -> [{"label", "value"}]   # to confirm before submitting
    field.label.text(lang), field.hint, field.options[i].label.text(lang), field.type, field.multiple

Use cases (each in one unit of work; all take `now`; refusals are core.domain.errors)::

    start(session, actor_id, form, values, now=, tz=, lang=) -> RequestOutcome      # /form <name>
    attach_form(session, actor_id, form, task_id, values, now=, tz=)              # /form <name> #42
    approve(session, actor_id, task_id, now=, step_id=None, comment=None)          # /approve 42 [s17] [comment]
    reject(session, actor_id, task_id, reason, now=, step_id=None)                 # /reject 42 [s17] <reason>
    acknowledge(session, actor_id, task_id, now=, step_id=None, comment=None)      # /ack 42 [s17]
    complete_step(session, actor_id, task_id, now=, step_id=None, values=None, comment=None, tz=)  # /complete 42
    choose(session, actor_id, task_id, outcome, now=, step_id=None, comment=None)  # /decide 42 [s17_]<outcome>
    resubmit(session, actor_id, task_id, values, now=, tz=)                        # after "returned for rework"
    cancel(session, actor_id, task_id, now=)                                       # the author withdraws it
    RequestOutcome(request, task, step, changed)   # changed=False: a repeated tap, nothing happened

Buttons and commands: `read_action(args) -> ActionArgs(task_id, step_id, outcome, rest)` reads what a
button's command (core.presentation.messages.ACTIONS: approve, reject, ack, done_step, decide) or a typed one names.

Reading::

    pending_for(session, person_id) -> [Pending]    # /approvals: task_id, title, form, step, row, since, due_at
    request_view(session, task, reader, now) -> dict | None   # a request's card: fields, "step 2 of 4 — …", decisions
    request_cards.card(renderer, session, task, reader) -> Message   # that card rendered, with this reader's buttons

Time and services: `automation.tick(store, now)` (step deadlines: reminders, escalation; in
core.infra.scheduler.tick), `await automation.run_due(store, now)` (bot calls; a scheduler job), and
`handle_callback(store, body, signature, now=) -> (status, json)` for the web server to mount at
POST /forms/callback (X-Teamflow-Signature: sha256=<HMAC of the body with the form's secret>).
"""
from __future__ import annotations

from core.forms.automation import handle_callback
from core.forms.catalog import Forms, check_form, check_forms, load_forms, parse_form
from core.forms.parser import Problem
from core.forms.request_cards import ActionArgs, Pending, pending_for, read_action, request_view, show, shown_fields
from core.forms.requests import (
    RequestOutcome, acknowledge, approve, attach_form, cancel, choose, complete_step, may_start, reject, resubmit, start,
)
from core.forms.schema import Field, Form, Step
from core.forms.values import Context, check_submission, check_value, fields_to_ask, read_value

def summary(session, form: Form, values: dict, lang: str, tz: str) -> list[dict]:
    """The filled fields as a reader sees them, to confirm before submitting."""
    return shown_fields(session, form.fields, values, lang, tz)


__all__ = [
    "ActionArgs", "Context", "Field", "Form", "Forms", "Pending", "Problem", "RequestOutcome", "Step",
    "acknowledge", "approve", "attach_form", "cancel", "check_form", "check_forms", "check_submission",
    "check_value", "choose", "complete_step", "fields_to_ask", "handle_callback", "load_forms", "may_start",
    "parse_form", "pending_for", "read_action", "read_value", "reject", "request_view", "resubmit", "show",
    "start", "summary",
]
