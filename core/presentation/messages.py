"""What the core hands an adapter to show: text plus buttons that speak intent.

A button carries the command a tap runs, never a platform widget: Telegram
draws it as an inline key (callback data: its tap code, core/chat/taps.py), Slack
as a Block Kit button (the same code as its value), the console as a numbered
choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.presentation.i18n import N_
from core.services import commands as c

# What a tapped button asks before its command can run (the field `commands.asks` names).
PROMPTS = {
    c.CommentTask: N_("Type your comment for #%(id)s (or /cancel):"),
    c.SnoozeTask: N_("Until when should I snooze #%(id)s? For example: in 3 hours, завтра в 10:00 (or /cancel)"),
    c.RejectStep: N_("Why do you reject #%(id)s? Type the reason (or /cancel):"),
}
STALE_BUTTON = N_("This button is no longer valid. Open the task again with /show.")
CANCELLED = N_("Cancelled.")
# Any update whose handling failed (a bug, the database gone): every adapter answers this.
SOMETHING_WRONG = N_("Sorry, something went wrong on my side and nothing was changed. Please try again in a minute.")
NOT_SAVED = N_("I couldn't save that: my database is not taking changes right now. Nothing was changed; "
               "please try again in a minute.")


@dataclass(frozen=True)
class Button:
    """A label and the command a tap runs (core/services/commands.py); platforms carry it as a tap code
    (core/chat/taps.py). A command with a field left None asks for it first (`commands.asks`)."""

    label: str
    command: c.Command

    @property
    def task_id(self) -> int | None:
        """The task (or announcement) the command acts on: whose card a tap redraws."""
        return getattr(self.command, "task_id", None)

    @property
    def asks(self) -> str | None:
        return c.asks(self.command)


@dataclass
class Message:
    """A rendered message for one reader on one platform."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    task_id: int | None = None
    kind: str = "text"
    announcement_id: int | None = None
    key: str | None = None  # the outbox row's idempotency key, for platforms that can reconcile
    # A card answering a tap: the card alone (no headline), to redraw the tapped message
    # with, rendered with the answer instead of again in a transaction of its own.
    redraw: "Message | None" = None
