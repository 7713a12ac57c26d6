"""Button data: a CallbackData class per feature, carrying a command's tap code (core/chat/taps.py).

Ids and short codes only, never titles, so it stays far under 64 bytes; what
comes back is never trusted: `command_of` rebuilds the typed command only from
data of the shape we make, and the core checks ids and permissions when it runs.
"""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from core.chat import taps
from core.presentation.messages import Button
from core.services.commands import Command


class TaskTap(CallbackData, prefix="t"):
    """A task card's button: Done, Reopen, Take, Comment, Snooze."""

    verb: str
    id: int
    arg: str = ""


class StepTap(CallbackData, prefix="s"):
    """A request step's button: Approve, Reject, Got it, Done, an outcome."""

    verb: str
    id: int
    arg: str = ""


class FillTap(CallbackData, prefix="f"):
    """A button while filling a form: an answer, Skip, Back, Send, Cancel."""

    verb: str
    id: int
    arg: str = ""


class AnnouncementTap(CallbackData, prefix="a"):
    """An announcement's RSVP and Close."""

    verb: str
    id: int
    arg: str = ""


FEATURES: dict[str, type[CallbackData]] = {"t": TaskTap, "s": StepTap, "f": FillTap, "a": AnnouncementTap}


def callback_data(button: Button) -> str:
    """The packed callback data of a button."""
    tap = taps.pack(button.command)
    return FEATURES[tap.feature](verb=tap.verb, id=tap.id, arg=tap.arg).pack()


def command_of(data: CallbackData) -> Command | None:
    """The command tapped; None for data we never made."""
    return taps.unpack(taps.Tap(data.__prefix__, data.verb, data.id, data.arg))
