"""Core messages drawn as Telegram messages: HTML text within 4096 UTF-16 units, inline keys."""
from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.callbacks import callback_data
from core.presentation.messages import Message

# Telegram counts its limit in UTF-16 code units (an emoji outside the BMP is two), on the text after
# HTML parsing; measuring the HTML source instead is conservative: tags and entities only make it longer.
TEXT_LIMIT = 4096
CLOSERS = len("</b></i></code></pre>")  # what _close_tags may add after the cut


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons as an inline keyboard (None when it has none)."""
    rows = [
        [InlineKeyboardButton(text=b.label, callback_data=callback_data(b)) for b in row]
        for row in message.buttons if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def fit(text: str, more: str = "") -> str:
    """Trim to Telegram's limit at a line break, pointing at the full card (`more`)."""
    if units(text) <= TEXT_LIMIT:
        return text
    tail = f"\n…\n{more}" if more else "\n…"
    cut = _head(text, TEXT_LIMIT - units(tail) - CLOSERS)
    cut = cut[: cut.rfind("\n")] if "\n" in cut[-500:] else cut
    return _close_tags(cut) + tail


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts (a lone surrogate counts one, not raises)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _head(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units, never half of a surrogate pair."""
    head = text.encode("utf-16-le", "surrogatepass")[: 2 * limit].decode("utf-16-le", "surrogatepass")
    if head and head[-1] != text[len(head) - 1]:  # the cut fell inside a pair: its high half is left over
        head = head[:-1]
    return head


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
