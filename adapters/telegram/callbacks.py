"""Button data: ids and short codes only, never titles, so it stays far under 64 bytes."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from core.messages import Button


class TaskAction(CallbackData, prefix="t"):
    """A tap on a task card: `t:<action>:<task id>:<arg>`."""

    action: str
    task_id: int
    arg: str = ""

    @classmethod
    def of(cls, button: Button) -> "TaskAction":
        return cls(action=button.action, task_id=button.task_id, arg=button.arg)

    def button(self, label: str = "") -> Button:
        """Back to the core's platform-neutral button (validated by the core, not trusted)."""
        return Button(label=label, action=self.action, task_id=self.task_id, arg=self.arg)
