"""The App Home tab: what waits for me (approvals, then my open tasks, with their buttons) and the board.

Published on app_home_opened, so it is fresh every time the tab is opened,
and again after a tap on one of its buttons.
"""
from __future__ import annotations

from adapters.slack.blocks import blocks, sections
from core.presentation.i18n import N_
from core.services import commands as c

VIEW_BLOCKS = 100  # Slack's limit for a view
HEADER_LIMIT = 150
APPROVALS = N_("Your approvals")
WAITING = N_("What waits for you")
BOARD = N_("The board")


def home_view(chat, person_id: int) -> dict:
    """My approvals, my tasks and the board, in my language, drawn for Slack (at most 100 blocks)."""
    approvals = chat.run(person_id, c.ListApprovals(), "slack")
    mine = chat.run(person_id, c.ListTasks("mine"), "slack")
    board = chat.run(person_id, c.ShowBoard(), "slack")
    view = [header(chat.say(person_id, APPROVALS)), *blocks(approvals, limit=VIEW_BLOCKS // 4, part="a")]
    view += [{"type": "divider"}, header(chat.say(person_id, WAITING))]
    view += blocks(mine, limit=VIEW_BLOCKS // 2 - len(view), part="m")
    view += [{"type": "divider"}, header(chat.say(person_id, BOARD))]
    view += blocks(board, limit=VIEW_BLOCKS - len(view), part="b")
    return {"type": "home", "blocks": view}


def stranger_view(text: str) -> dict:
    """What someone outside the team sees: how to ask for access, nothing else."""
    return {"type": "home", "blocks": sections(text, 1)}


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT], "emoji": True}}
