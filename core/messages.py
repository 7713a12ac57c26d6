"""What the core hands an adapter to show: text plus buttons that speak intent.

A button names an action on a task, never a platform widget: Telegram draws it
as an inline key (its callback data built from `action`, `task_id`, `arg`),
Slack as a Block Kit button, the console as a numbered choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import N_

# action -> the command a tap stands for ("{id}" and "{arg}" filled in);
# actions without a command need more input first (see PROMPTS).
ACTIONS = {
    "done": "/done {id}",
    "reopen": "/reopen {id}",
    "take": "/take {id}",
    "snooze": "/snooze {id} {arg}",
    "watch": "/watch {id}",
    "show": "/show {id}",
    "comment": None,
    "snooze_custom": None,
    # Announcements: `task_id` holds the announcement's number.
    "rsvp": "/rsvp {id} {arg}",
    "announce_close": "/announce close {id}",
    # Form requests (core/forms/buttons.py): `arg` is the step instance, "s17",
    # plus "_<outcome number>" on a decide step, so a stale card is refused.
    "approve": "/approve {id} {arg}",
    "reject": None,
    "ack": "/ack {id} {arg}",
    "done_step": "/complete {id} {arg}",
    "decide": "/decide {id} {arg}",
    # Filling a form (core/chat_forms.py): `task_id` holds the asked field's
    # position in the form (0: the summary), so a tap on an old question is
    # refused as stale; `arg` names the answer (an option, yes/no, a person).
    "pick": "/pick {id} {arg}",
    "skip_field": "/skip {id}",
    "back_field": "/back {id}",
    "submit_form": "/submit",
    "cancel_form": "/cancel",
}
# A tap on these answers with the next question (or the summary, or the sent
# request): adapters show that answer as a new message instead of redrawing
# the tapped one, which is no task card.
FILLING = frozenset({"pick", "skip_field", "back_field", "submit_form", "cancel_form"})
PROMPTS = {
    "comment": N_("Type your comment for #%(id)s (or /cancel):"),
    "snooze_custom": N_("Until when should I snooze #%(id)s? For example: in 3 hours, завтра в 10:00 (or /cancel)"),
    "reject": N_("Why do you reject #%(id)s? Type the reason (or /cancel):"),
}
STALE_BUTTON = N_("This button is no longer valid. Open the task again with /show.")
CANCELLED = N_("Cancelled.")
# Any update whose handling failed (a bug, the database gone): every adapter answers this.
SOMETHING_WRONG = N_("Sorry, something went wrong on my side and nothing was changed. Please try again in a minute.")
SNOOZE_CHOICES = {"1h": "in 1 hour", "tomorrow": "tomorrow 9:00", "monday": "next monday 9:00"}


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    task_id: int
    arg: str = ""

    def command(self) -> str | None:
        """The command a tap on this button runs, or None when input is needed."""
        template = ACTIONS.get(self.action)
        if template is None:
            return None
        arg = SNOOZE_CHOICES.get(self.arg, "") if self.action == "snooze" else self.arg
        return template.format(id=self.task_id, arg=arg).strip()

    def prompt_command(self, text: str) -> str | None:
        """For buttons that ask for input: the command with the input filled in."""
        if self.action == "comment":
            return f"/comment {self.task_id} {text}"
        if self.action == "snooze_custom":
            return f"/snooze {self.task_id} {text}"
        if self.action == "reject":
            return " ".join(filter(None, ("/reject", str(self.task_id), self.arg, text)))
        return None


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
