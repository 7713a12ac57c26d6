"""Reading command text: `/name args`, task ids, and `/task`'s title, @people and deadline."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from core.domain.errors import BadInput
from core.presentation.i18n import N_
from core.services.people import MENTION

COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?=\s|$)(.*)$", re.DOTALL)
# The deadline starts at the last "by", "due" or "до" that stands as a word.
DUE_KEYWORD = re.compile(r"(?:^|\s)(?:by|due|до)\s+(?=\S)", re.IGNORECASE)
EVERY_KEYWORD = re.compile(r"(?:^|\s)(?:every|каждый|каждую|каждое|каждые)\s+(?=\S)", re.IGNORECASE)
SURROGATE = re.compile("[\ud800-\udfff]")
BAD_ID = N_("Give the task number, like: /show 42")
DUE_AND_REPEAT = N_("A repeating task is due at each repetition; drop the \"by …\" part.")


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""


@dataclass
class TaskArgs:
    title: str
    mentions: list[str] = field(default_factory=list)
    due: datetime | None = None
    description: str = ""
    repeat: str | None = None  # "monday 10:00" from "every monday 10:00"


def parse_command(text: str) -> Command | None:
    """'/done@teamflow_bot 42' -> Command('done', '42'); plain text -> None."""
    match = COMMAND.match(text.strip())
    if not match:
        return None
    return Command(match.group(1).lower(), match.group(2).strip())


def parse_id(text: str, msgid: str = BAD_ID) -> int:
    """'42' or '#42' -> 42; anything else is refused with an example."""
    token = (text or "").strip().split(maxsplit=1)[0] if (text or "").strip() else ""
    token = token.lstrip("#")
    if not token.isascii() or not token.isdigit() or len(token) > 12 or int(token) == 0:
        raise BadInput(msgid)
    return int(token)


def split_id(text: str, missing_rest_msgid: str) -> tuple[int, str]:
    """'42 rest of it' -> (42, 'rest of it'); the rest must not be empty."""
    parts = (text or "").strip().split(maxsplit=1)
    task_id = parse_id(parts[0] if parts else "")
    if len(parts) < 2 or not parts[1].strip():
        raise BadInput(missing_rest_msgid)
    return task_id, parts[1].strip()


def parse_task_args(text: str, read_time: Callable[[str], datetime]) -> TaskArgs:
    """'Prepare model @olga @ivan by tomorrow 15:00' -> title, mentions, due.

    Only the first line carries mentions and the deadline; further lines are
    the description. The deadline is everything after the last by/due/до.
    """
    first, _, description = (text or "").partition("\n")
    due, repeat = None, None
    every = _last(EVERY_KEYWORD, first)
    if every is not None:
        repeat = MENTION.sub(" ", first[every.end():]).strip()
        first = first[: every.start()] + " " + " ".join(f"@{m}" for m in MENTION.findall(first[every.end():]))
    keyword = _last(DUE_KEYWORD, first)
    if keyword is not None and repeat is not None:
        raise BadInput(DUE_AND_REPEAT)
    if keyword is not None:
        when = MENTION.sub(" ", first[keyword.end():]).strip()
        mentions_after = MENTION.findall(first[keyword.end():])
        due = read_time(when)
        first = first[: keyword.start()] + " " + " ".join(f"@{m}" for m in mentions_after)
    mentions = list(dict.fromkeys(m.lower().rstrip(".-") for m in MENTION.findall(first)))
    title = " ".join(MENTION.sub(" ", first).split())
    return TaskArgs(title=title, mentions=mentions, due=due, description=description.strip(), repeat=repeat)


def _last(pattern: re.Pattern, text: str):
    last = None
    for last in pattern.finditer(text):
        pass
    return last


SCHEDULE_KEYWORD = re.compile(r"\s(?:at)\s+(?=\S)", re.IGNORECASE)


def parse_announcement(text: str, read_time: Callable[[str], datetime]) -> tuple[str, datetime | None]:
    """'Pizza, who's in? at friday 13:00' -> (text, when). A trailing "at <when>" that
    reads as a time schedules the post; text in quotes is never read for a time."""
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].strip(), None
    quoted = re.match(r'^"(.+)"\s+at\s+(.+)$', text, re.DOTALL | re.IGNORECASE)
    if quoted:
        return quoted.group(1).strip(), read_time(quoted.group(2))
    keyword = _last(SCHEDULE_KEYWORD, text)
    if keyword is None:
        return text, None
    try:
        return text[: keyword.start()].strip(), read_time(text[keyword.end():])
    except BadInput:
        return text, None  # "at 13:00, who's in?" is part of the text, not a schedule


def valid_text(text: str) -> str:
    """Text as a platform sent it, made valid Unicode: split surrogate pairs joined, a lone half is U+FFFD."""
    if not SURROGATE.search(text):
        return text
    # JSON may carry a lone \ud83d escape; UTF-8 (the database, every platform's API) cannot encode it.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
