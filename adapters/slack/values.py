"""Button values: a command's tap code (core/chat/taps.py), `feature:verb:id:arg`, never trusted.

A value can be forged by anyone who can post to our endpoint with a valid
signature, or be left over from an older version: `unpack` rebuilds the typed
command only from a value of the shape we make, and the core checks that the
task exists, that the person may see it and may do this.
"""
from __future__ import annotations

import re

from core.chat import taps
from core.presentation.messages import Button
from core.services.commands import Command

ACTION_ID = re.compile(r"^tf\.")  # every Teamflow button's action_id starts so
VALUE = re.compile(r"^([a-z]):([a-z_]{1,24}):(\d{1,9}):([\w-]{0,40})$")


def pack(button: Button) -> str:
    """The compact value a Block Kit button carries."""
    tap = taps.pack(button.command)
    return f"{tap.feature}:{tap.verb}:{tap.id}:{tap.arg}"


def unpack(value: str | None) -> Command | None:
    """The command a value stands for, or None for a value we never made."""
    match = VALUE.match(value or "")
    if match is None:
        return None
    return taps.unpack(taps.Tap(match.group(1), match.group(2), int(match.group(3)), match.group(4)))


def action_id(row: int, column: int, part: str = "") -> str:
    """Unique within a message or view, as Block Kit requires; the value says what it does."""
    return f"tf.{part}{row}.{column}"
