"""Modal submissions (`view_submission`)."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.listeners.views.prompt_submitted import on_submit
from adapters.slack.modals import CALLBACK_ID


def register(app: AsyncApp) -> None:
    app.view(CALLBACK_ID)(on_submit)
