"""Slack's markup in what people type, back to the plain words the core reads.

Slack sends `<@U0123|olga>` for a mention, `<https://…|label>` for a link,
`<#C0123|general>` for a channel and escapes &, < and >. The core reads
`@olga` (the org handle), a bare URL, and the characters as typed.
"""
from __future__ import annotations

import re

from sqlmodel import select

from core.domain.models import Person

MARKUP = re.compile(r"<([^<>]*)>")


def to_plain(text: str, handles: dict[str, str]) -> str:
    """Slack-formatted text as a person meant it; `handles` maps member ids to org handles."""
    def replace(match: re.Match) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            member = target[1:]
            return f"@{handles.get(member) or label or member}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):  # @here, @channel: plain words (the core would read a mention)
            return label.lstrip("@") or target[1:].split("^")[0]
        return target  # a link: the URL itself
    return MARKUP.sub(replace, text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def member_ids(text: str) -> set[str]:
    """The member ids mentioned in Slack-formatted text."""
    return {m.group(1).partition("|")[0][1:] for m in MARKUP.finditer(text or "") if m.group(1).startswith("@")}


def plain_text(teamflow, text: str) -> str:
    """`to_plain` with the mentioned members' org handles looked up."""
    ids = member_ids(text)
    handles: dict[str, str] = {}
    if ids:
        with teamflow.store.session() as session:
            rows = session.exec(select(Person.slack_id, Person.handle).where(Person.slack_id.in_(ids))).all()
            handles = {slack_id: handle for slack_id, handle in rows}
    return to_plain(text, handles)
