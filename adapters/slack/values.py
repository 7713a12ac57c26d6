"""Button values: `action:task_id:arg`, short ids only, and never trusted.

A value can be forged by anyone who can post to our endpoint with a valid
signature, or be left over from an older version: the core checks that the
task exists, that the person may see it and may do this; here we only check
that the value has the shape we make.
"""
from __future__ import annotations

import re

from core.messages import ACTIONS, Button

ACTION_ID = re.compile(r"^tf\.")  # every Teamflow button's action_id starts so
VALUE = re.compile(r"^([a-z_]{1,24}):(\d{1,9}):([\w-]{0,32})$")


def pack(button: Button) -> str:
    """The compact value a Block Kit button carries."""
    return f"{button.action}:{button.task_id}:{button.arg}"


def unpack(value: str | None) -> Button | None:
    """Back to the core's button, or None for a value we never made."""
    match = VALUE.match(value or "")
    if match is None or match.group(1) not in ACTIONS:
        return None
    return Button(label="", action=match.group(1), task_id=int(match.group(2)), arg=match.group(3))


def action_id(row: int, column: int, part: str = "") -> str:
    """Unique within a message or view, as Block Kit requires; the value says what it does."""
    return f"tf.{part}{row}.{column}"
