"""Core messages drawn as Block Kit: mrkdwn sections, then an actions block per button row.

Slack's limits: at most 50 blocks in a message (100 in a view), 3 000
characters in a section's text, 25 buttons in an actions block, 75 in a
button's label. A longer text is split at line breaks; one too long even for
50 blocks ends with a pointer to the full card.

The text is rendered for platform "slack", which has no templates of its own
and falls back to the plain ones: it holds no markup, so escaping &, < and >
here is all mrkdwn needs (and it keeps a title like "<!channel>" from pinging
everyone).
"""
from __future__ import annotations

from adapters.slack.values import action_id, pack
from core.presentation.messages import Button, Message
from core.services.commands import CloseTask, TakeTask

SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50
BUTTONS_PER_BLOCK = 25
LABEL_LIMIT = 75
FALLBACK_LIMIT = 300
PRIMARY = (CloseTask, TakeTask)  # the buttons drawn as the card's main action


def escape(text: str) -> str:
    """Plain text made safe for mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback(message: Message) -> str:
    """The top-level `text`: the notification preview, and what clients without blocks show."""
    first = message.text.strip().split("\n", 1)[0]
    return escape(first[:FALLBACK_LIMIT]) or " "


def blocks(message: Message, limit: int = MESSAGE_BLOCKS, part: str = "") -> list[dict]:
    """The whole message as blocks, within `limit`; `part` keeps block ids unique when a view holds several."""
    actions = action_blocks(message.buttons, max_blocks=limit // 2, part=part)
    more = f"/show {message.task_id}" if message.task_id else ""
    return sections(message.text, limit - len(actions), more) + actions


def sections(text: str, room: int, more: str = "") -> list[dict]:
    """Escaped text in sections of at most SECTION_LIMIT, at most `room` of them."""
    parts = chunks(escape(text.strip()), SECTION_LIMIT)
    if len(parts) > room:
        tail = f"\n…\n{more}" if more else "\n…"
        parts = parts[:max(room, 1)]
        parts[-1] = parts[-1][:safe_cut(parts[-1], SECTION_LIMIT - len(tail))] + tail
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in parts]


def chunks(text: str, size: int) -> list[str]:
    """Split at line breaks into pieces of at most `size`; an overlong line is cut."""
    pieces, current = [], ""
    for line in _short_lines(text.split("\n"), size):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            pieces.append(current)
            candidate = line
        current = candidate
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def _short_lines(lines: list[str], size: int):
    for line in lines:
        while len(line) > size:
            cut = safe_cut(line, size)
            yield line[:cut]
            line = line[cut:]
        yield line


def safe_cut(text: str, at: int) -> int:
    """Where to cut so as not to split an entity such as `&amp;`."""
    if len(text) <= at:
        return len(text)
    amp = text.rfind("&", max(0, at - 5), at)
    return amp if amp > 0 and text.find(";", amp, at) == -1 else at


def action_blocks(rows: list[list[Button]], max_blocks: int = MESSAGE_BLOCKS // 2, part: str = "") -> list[dict]:
    """One actions block per button row; many rows (a long list) share blocks of 25."""
    rows = [row for row in rows if row]
    if len(rows) > max_blocks:
        flat = [b for row in rows for b in row]
        rows = [flat[i:i + BUTTONS_PER_BLOCK] for i in range(0, len(flat), BUTTONS_PER_BLOCK)][:max_blocks]
    return [
        {"type": "actions", "block_id": f"tf-row-{part}{r}", "elements": [button(b, r, c, part) for c, b in enumerate(row)]}
        for r, row in enumerate(rows)
    ]


def button(b: Button, row: int, column: int, part: str = "") -> dict:
    """A Block Kit button whose value the actions listener reads back."""
    element = {
        "type": "button", "action_id": action_id(row, column, part), "value": pack(b),
        "text": {"type": "plain_text", "text": b.label[:LABEL_LIMIT] or "…", "emoji": True},
    }
    if isinstance(b.command, PRIMARY):
        element["style"] = "primary"
    return element
