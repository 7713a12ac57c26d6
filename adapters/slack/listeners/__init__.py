"""Every listener of the app, registered the way bolt-python's starter template does."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.listeners import actions, commands, events, views


def register_listeners(app: AsyncApp) -> None:
    """Slash commands, button taps, modal submissions and events."""
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
