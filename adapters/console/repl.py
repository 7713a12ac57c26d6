"""`teamflow console`: the chat in a terminal, with the scheduler ticking behind it."""
from __future__ import annotations

import asyncio
import logging
import sys

from adapters.console.session import ConsoleSession
from core.infra import scheduler as scheduling

log = logging.getLogger(__name__)
BANNER = """Teamflow console. You are {name} (@{handle}).
Type /help for commands, a number to tap a button, `reply #42 text` to reply to a card,
/as <person> to become someone else, /quit to leave."""


async def run_console(app, messenger, handle: str | None = None, stdin=None, stdout=None) -> None:
    """Read lines until EOF or /quit; print answers and every delivered notice."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    chat = ConsoleSession(app, handle)
    messenger.on_message = lambda person, message: print(chat.notice(person, message) + "\n", file=stdout, flush=True)
    messenger.on_channel = lambda chat_id, message: print(chat.channel_post(chat_id, message) + "\n", file=stdout,
                                                          flush=True)
    scheduler = scheduling.start(app)
    if chat.actor is not None:
        print(BANNER.format(name=chat.actor.name, handle=chat.actor.handle), file=stdout, flush=True)
    try:
        while True:
            line = await asyncio.to_thread(_read, stdin, stdout, chat)
            if line is None or line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                print(chat.type(line) + "\n", file=stdout, flush=True)
                await _deliver(app)
    finally:
        scheduler.shutdown(wait=False)


async def _deliver(app) -> None:
    """Print what the line caused; a failed delivery is logged, the outbox keeps it for later."""
    try:
        await app.delivery.drain()
    except Exception:  # noqa: BLE001 - the terminal goes on
        log.exception("console: delivering notices failed")


def _read(stdin, stdout, chat: ConsoleSession) -> str | None:
    who = chat.actor.handle if chat.actor else "?"
    print(f"{who}> ", end="", file=stdout, flush=True)
    line = stdin.readline()
    return line if line else None
