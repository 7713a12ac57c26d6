"""One Router per feature; `routers()` lists them in the order they must be tried."""
from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from adapters.telegram.handlers import buttons, commands, joining, prompts, replies, service

    return [m.router() for m in (service, joining, prompts, replies, buttons, commands)]
