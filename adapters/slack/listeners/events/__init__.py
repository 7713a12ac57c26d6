"""Events API: App Home opened, and messages (thread replies on cards, DMs with the bot)."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.errors import guarded
from adapters.slack.listeners.events.app_home_opened import on_home_opened
from adapters.slack.listeners.events.messages import on_message


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(guarded(on_home_opened))
    app.event("message")(guarded(on_message))
