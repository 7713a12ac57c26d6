"""What a form does when a request starts or completes: tasks from table rows,
an announcement to the team's channels, a notice to named people or roles."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time

from core.domain.clock import to_db, zone
from core.domain.models import Announcement, TaskLink
from core.forms import who
from core.forms.display import show
from core.forms.history import Walk, event, tell
from core.forms.schema import Action, Label
from core.presentation.i18n import LANGUAGES
from core.services.tasks import TITLE_MAX, create_task

PLACEHOLDER = re.compile(r"\{(\w+)\}")
DUE_HOUR = 18  # a row's due date without a time means the end of that working day
ANNOUNCEMENT_MAX = 3000


def run_actions(walk: Walk, actions: tuple[Action, ...]) -> None:
    for index, action in enumerate(actions):
        if action.kind == "tasks_from":
            tasks_from_rows(walk, action)
        elif action.kind == "announce":
            announce(walk, action, index)
        else:
            people = who.resolve(walk.session, walk.author, walk.request.values, action.who)
            tell(walk, [p.id for p in people], "notify", str(index), text=texts(walk, action.text))


def texts(walk: Walk, label: Label | None) -> dict[str, str] | None:
    """A form's text with {field}, {author} and {id} filled in, in every language."""
    if label is None:
        return None
    tz = walk.request.timezone
    return {lang: PLACEHOLDER.sub(lambda m: _value(walk, m.group(1), lang, tz), label.text(lang))
            for lang in LANGUAGES}


def _value(walk: Walk, name: str, lang: str, tz: str) -> str:
    if name == "author":
        return walk.author.name
    if name == "id":
        return f"#{walk.task.id}"
    field = walk.form.field(name)
    return show(walk.session, field, walk.request.values.get(name), lang, tz) if field else ""


def tasks_from_rows(walk: Walk, action: Action) -> None:
    """One task per row, linked to the request's task, with the row's assignee and due date."""
    created = []
    for row in walk.request.values.get(action.field) or []:
        title = str(row.get(action.title) or "").strip()[:TITLE_MAX]
        if not title:
            continue
        handle = row.get(action.assignee) if action.assignee else None
        assignee = who.member(walk.session, handle) if handle else None
        zone_name = (assignee.timezone if assignee else None) or walk.request.timezone
        due = _due(row.get(action.due), zone_name) if action.due else None
        task = create_task(walk.session, walk.author.id, title, now=walk.now, due_at=due,
                           assignee_id=assignee.id if assignee else None).task
        low, high = sorted((walk.task.id, task.id))
        walk.session.add(TaskLink(task_id=low, other_id=high, created_by=walk.author.id, created_at=to_db(walk.now)))
        created.append(task.id)
    if created:
        walk.session.flush()
        event(walk, "tasks_created", ids=created)


def _due(value, tz: str) -> datetime | None:
    """A row's due: a datetime as it is; a date at 18:00 in the assignee's zone."""
    if not value:
        return None
    if "T" in str(value):
        return datetime.fromisoformat(value)
    local = datetime.combine(date.fromisoformat(value), time(DUE_HOUR), tzinfo=zone(tz))
    return to_db(local)


def announce(walk: Walk, action: Action, index: int) -> None:
    """A post for the announcement channels, in every language; the announcements tick
    publishes it to whichever channels are running (this transaction does not know them)."""
    each = ANNOUNCEMENT_MAX // 2 - 50  # both languages must fit in one announcement's text
    text = json.dumps({lang: words[:each] for lang, words in texts(walk, action.text).items()}, ensure_ascii=False)
    walk.session.add(Announcement(author_id=walk.author.id, kind="form", text=text, post_at=to_db(walk.now),
                                  status="scheduled", dedupe_key=f"form:{walk.request.id}:{index}",
                                  created_at=to_db(walk.now)))
    walk.session.flush()
