"""Copies of task cards the bot has sent: edits find them, replies map back."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.models import CardMessage

# Platforms whose messages the bot can edit in place (the console cannot).
EDITABLE_PLATFORMS = frozenset({"telegram", "slack"})


def remember_card(session: Session, task_id: int, sent, person_id: int | None, now: datetime,
                  fresh: bool = False) -> None:
    """Record where a card landed (once per platform message; `fresh`: the platform just made it,
    so it cannot be recorded yet and is not looked up)."""
    exists = None if fresh else session.exec(
        select(CardMessage.id).where(
            CardMessage.platform == sent.platform,
            CardMessage.chat_id == str(sent.chat_id),
            CardMessage.message_id == str(sent.message_id),
        )
    ).first()
    if exists is None:
        session.add(CardMessage(
            task_id=task_id, platform=sent.platform, chat_id=str(sent.chat_id),
            message_id=str(sent.message_id), person_id=person_id, created_at=to_db(now),
        ))


def task_of_message(session: Session, platform: str, chat_id: str, message_id: str) -> int | None:
    """Which task a platform message shows, if it is one of our cards."""
    return session.exec(
        select(CardMessage.task_id).where(
            CardMessage.platform == platform,
            CardMessage.chat_id == str(chat_id),
            CardMessage.message_id == str(message_id),
        )
    ).first()


def copies(session: Session, task_id: int) -> list[CardMessage]:
    """Every copy of a task's card, to update when the task changes."""
    return list(session.exec(select(CardMessage).where(CardMessage.task_id == task_id)))


def move_chat(session: Session, platform: str, old_chat_id: str, new_chat_id: str) -> int:
    """A group became a supergroup (Telegram): its cards now live under the new id."""
    rows = list(session.exec(select(CardMessage).where(
        CardMessage.platform == platform, CardMessage.chat_id == str(old_chat_id))))
    for row in rows:
        row.chat_id = str(new_chat_id)
        session.add(row)
    return len(rows)
