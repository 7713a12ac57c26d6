"""Block Kit buttons (`block_actions`): every Teamflow button's action_id starts with `tf.`."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.errors import guarded
from adapters.slack.listeners.actions.task_buttons import on_tap
from adapters.slack.values import ACTION_ID


def register(app: AsyncApp) -> None:
    app.action(ACTION_ID)(guarded(on_tap))
