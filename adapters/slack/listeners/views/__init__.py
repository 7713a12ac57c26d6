"""Modal submissions (`view_submission`): a prompt (comment, snooze, reject reason) or a form."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.form_modal import CALLBACK_ID as FORM
from adapters.slack.listeners.views.form_submitted import on_form_submit
from adapters.slack.listeners.views.prompt_submitted import on_submit
from adapters.slack.modals import CALLBACK_ID as PROMPT


def register(app: AsyncApp) -> None:
    app.view(PROMPT)(on_submit)
    app.view(FORM)(on_form_submit)
