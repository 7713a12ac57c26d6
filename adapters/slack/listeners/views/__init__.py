"""Modal submissions (`view_submission`): a prompt (comment, snooze, reject reason), a form, a work step's fields."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.errors import guarded
from adapters.slack.form_modal import CALLBACK_ID as FORM
from adapters.slack.form_modal import STEP_CALLBACK_ID as STEP
from adapters.slack.listeners.views.form_submitted import on_form_submit
from adapters.slack.listeners.views.prompt_submitted import on_submit
from adapters.slack.listeners.views.step_submitted import on_step_submit
from adapters.slack.modals import CALLBACK_ID as PROMPT


def register(app: AsyncApp) -> None:
    app.view(PROMPT)(guarded(on_submit))
    app.view(FORM)(guarded(on_form_submit))
    app.view(STEP)(guarded(on_step_submit))
