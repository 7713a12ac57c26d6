"""Core messages drawn as Telegram messages: HTML text within 4096 characters, inline keys."""
from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.callbacks import TaskAction
from core.messages import Message

TEXT_LIMIT = 4096


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons as an inline keyboard (None when it has none)."""
    rows = [
        [InlineKeyboardButton(text=b.label, callback_data=TaskAction.of(b).pack()) for b in row]
        for row in message.buttons if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def fit(text: str, more: str = "") -> str:
    """Trim to Telegram's limit at a line break, pointing at the full card (`more`)."""
    if len(text) <= TEXT_LIMIT:
        return text
    tail = f"\n…\n{more}" if more else "\n…"
    cut = text[: TEXT_LIMIT - len(tail)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut[-500:] else cut
    return _close_tags(cut) + tail


def _close_tags(html: str) -> str:
    """Drop a tag or entity cut in half and close the simple tags left open."""
    last_lt, last_amp = html.rfind("<"), html.rfind("&")
    if last_lt > html.rfind(">"):
        html = html[:last_lt]
    if last_amp > html.rfind(";"):
        html = html[:last_amp]
    for tag in ("b", "i", "code", "pre"):
        if html.count(f"<{tag}>") > html.count(f"</{tag}>"):
            html += f"</{tag}>"
    return html
