"""Slash commands: the same words as on every platform (PRODUCT.md), declared in manifest.yaml."""
from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from adapters.slack.errors import guarded
from adapters.slack.listeners.commands.task_commands import on_command

# The commands manifest.yaml declares (a test keeps the two in step). Slack keeps
# /invite for itself, and joining with an invite code (/start) is Telegram's way
# in: on Slack the org file names the members.
COMMANDS = (
    "task", "tasks", "board", "show", "done", "reopen", "take", "watch", "assign", "due", "snooze",
    "comment", "attach", "link", "announce", "rsvp", "recurring", "form", "approvals", "approve", "reject", "ack", "complete",
    "decide", "withdraw", "escalate", "settings", "help",
)


def register(app: AsyncApp) -> None:
    """Any slash command of ours goes to the one handler (the core knows the words)."""
    app.command(re.compile(r"^/[a-z_]{1,32}$"))(guarded(on_command))
