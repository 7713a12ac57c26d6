"""The handlers of task, repetition, announcement and people commands.

Each is a small function over a unit of work: it calls one use case
(core/services/tasks.py, recurring, announcements, invites, settings) and answers with
what the actor sees. `handlers(...)` is the table the bus is built with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from core.chat.timeparse import parse_when
from core.presentation.i18n import N_
from core.presentation.messages import Message
from core.presentation.presenter import Presenter
from core.presentation.views import board_view, card_buttons, new_task_facts, task_views, when
from core.services import announcements, invites, queries, recurring, tasks
from core.services import commands as c
from core.services.bus import Handler, UnitOfWork
from core.services.people import resolve_mention, resolve_mentions


@dataclass
class Platforms:
    """The chat platforms running, as commands need them: where announcements go
    ((platform, chat id) of each channel) and how each shares an invite code."""

    channels: list[tuple[str, str]] = field(default_factory=list)
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)


def handlers(present: Presenter, platforms: Platforms, defaults) -> dict[type, Handler]:
    """Every command of this module with what it needs."""
    def bound(handler):
        return lambda uow, cmd: handler(present, uow, cmd)
    return {
        c.CreateTask: bound(create_task), c.ListTasks: bound(list_tasks), c.ShowBoard: bound(show_board),
        c.ShowTask: bound(show_task),
        c.CloseTask: _one_task(present, tasks.close, N_("Task #%(id)s is done.")),
        c.ReopenTask: _one_task(present, tasks.reopen, N_("Task #%(id)s is open again.")),
        c.TakeTask: _one_task(present, tasks.take, N_("Task #%(id)s is yours now.")),
        c.WatchTask: _one_task(present, tasks.watch, N_("You are watching task #%(id)s.")),
        c.AssignTask: bound(assign), c.SetDue: bound(set_due), c.SnoozeTask: bound(snooze),
        c.CommentTask: bound(comment), c.AttachLink: bound(attach_link), c.AttachFile: bound(attach_file),
        c.LinkTasks: bound(link),
        c.ListRecurring: bound(list_recurring), c.StopRecurring: bound(stop_recurring),
        c.Announce: lambda uow, cmd: announce(present, platforms, uow, cmd),
        c.CloseAnnouncement: bound(close_announcement), c.Rsvp: bound(rsvp),
        c.ChangeSettings: lambda uow, cmd: change_settings(present, defaults, uow, cmd),
        c.Invite: lambda uow, cmd: invite(present, platforms, uow), c.Help: bound(help_page),
    }


def _one_task(present: Presenter, use_case, headline: str) -> Handler:
    """A command on one task that needs nothing else: `use_case(session, actor, task_id, now=)`."""
    def handle(uow: UnitOfWork, cmd) -> Message:
        return _answer(present, uow, use_case(uow.session, uow.actor_id, cmd.task_id, now=uow.now), headline)
    return handle


def _answer(present: Presenter, uow: UnitOfWork, out, headline: str, facts=None, **params) -> Message:
    """The task's card under a headline; the use case's events are what happened."""
    uow.events += out.events
    return present.card(uow.session, out.task, uow.reader, present.headline(uow.reader, headline, id=out.task.id,
                                                                             **params), facts=facts)


def _time(uow: UnitOfWork, text: str | None):
    """A time as the person wrote it, read in their zone."""
    return parse_when(text or "", now=uow.now, tz=uow.reader.tz)


def create_task(present: Presenter, uow: UnitOfWork, cmd: c.CreateTask) -> Message:
    """A task, or a repeating one."""
    session, reader = uow.session, uow.reader
    people = resolve_mentions(session, [h for h in (cmd.assignee, *cmd.watchers) if h])  # one query
    assignee = people[0].id if cmd.assignee else None
    watchers = tuple(p.id for p in people[1 if cmd.assignee else 0:])
    if cmd.repeat is not None:
        made, out = recurring.create(session, reader.person.id, cmd.title, recurring.parse_rule(cmd.repeat),
                                     tz=reader.tz, now=uow.now, assignee_id=assignee, watcher_ids=watchers,
                                     description=cmd.description)
        return _answer(present, uow, out, N_("Task #%(id)s created; it repeats (repetition #%(rid)s)."), rid=made.id)
    out = tasks.create_task(session, reader.person.id, cmd.title, now=uow.now, assignee_id=assignee,
                            watcher_ids_=watchers, due_at=cmd.due, description=cmd.description)
    # A task made just now: its card needs no query for what it counts (nothing yet) or who watches it.
    return _answer(present, uow, out, N_("Task #%(id)s created."), facts=new_task_facts(out.events[0]))


def list_tasks(present: Presenter, uow: UnitOfWork, cmd: c.ListTasks) -> Message:
    """A list of tasks, each with its Done/Take button."""
    reader = uow.reader
    found = queries.list_tasks(uow.session, reader.person.id, cmd.scope, now=uow.now)
    views = task_views(uow.session, found, reader, uow.now)
    text = present.render("task_list", reader, tasks=views, scope=cmd.scope, limit=queries.LIST_LIMIT)
    buttons = [[replace(b, label=f"#{t.id} {b.label}") for b in card_buttons(t, reader)[0]
                if isinstance(b.command, (c.CloseTask, c.TakeTask))] for t in found]
    return Message(text=text, buttons=[row for row in buttons if row], kind="list")


def show_board(present: Presenter, uow: UnitOfWork, cmd: c.ShowBoard) -> Message:
    """The kanban board of what the actor may see."""
    columns = queries.board(uow.session, uow.actor_id, now=uow.now)
    view = board_view(uow.session, columns, uow.reader, uow.now)
    return Message(text=present.render("board", uow.reader, columns=view), kind="board")


def show_task(present: Presenter, uow: UnitOfWork, cmd: c.ShowTask) -> Message:
    """A task's card with its whole history."""
    task = tasks.visible_task(uow.session, uow.reader.person, cmd.task_id)
    return present.card(uow.session, task, uow.reader, history=cmd.history)


def set_due(present: Presenter, uow: UnitOfWork, cmd: c.SetDue) -> Message:
    out = tasks.set_due(uow.session, uow.actor_id, cmd.task_id, _time(uow, cmd.when), now=uow.now)
    return _answer(present, uow, out, N_("New deadline for #%(id)s."))


def snooze(present: Presenter, uow: UnitOfWork, cmd: c.SnoozeTask) -> Message:
    out = tasks.snooze(uow.session, uow.actor_id, cmd.task_id, _time(uow, cmd.when), now=uow.now)
    return _answer(present, uow, out, N_("I'll remind you about #%(id)s later."))


def comment(present: Presenter, uow: UnitOfWork, cmd: c.CommentTask) -> Message:
    out = tasks.comment(uow.session, uow.actor_id, cmd.task_id, cmd.text or "", now=uow.now)
    return _answer(present, uow, out, N_("Comment added to #%(id)s."))


def attach_link(present: Presenter, uow: UnitOfWork, cmd: c.AttachLink) -> Message:
    out = tasks.attach_link(uow.session, uow.actor_id, cmd.task_id, cmd.url, now=uow.now)
    return _answer(present, uow, out, N_("Link attached to #%(id)s."))


def attach_file(present: Presenter, uow: UnitOfWork, cmd: c.AttachFile) -> Message:
    out = tasks.attach_file(uow.session, uow.actor_id, cmd.task_id, platform=uow.reader.platform, file_id=cmd.file_id,
                            name=cmd.name, mime_type=cmd.mime_type, size=cmd.size, now=uow.now)
    return _answer(present, uow, out, N_("File attached to #%(id)s."))


def assign(present: Presenter, uow: UnitOfWork, cmd: c.AssignTask) -> Message:
    person = resolve_mention(uow.session, cmd.assignee)
    out = tasks.assign(uow.session, uow.actor_id, cmd.task_id, person.id, now=uow.now)
    return _answer(present, uow, out, N_("Task #%(id)s is now %(name)s's."), name=person.name)


def link(present: Presenter, uow: UnitOfWork, cmd: c.LinkTasks) -> Message:
    out = tasks.link(uow.session, uow.actor_id, cmd.task_id, cmd.other_id, now=uow.now)
    return _answer(present, uow, out, N_("#%(id)s and #%(other)s are linked."), other=cmd.other_id)


def list_recurring(present: Presenter, uow: UnitOfWork, cmd: c.ListRecurring) -> Message:
    rows = [{"id": r.id, "title": r.title, "next": when(r.next_at, uow.reader)}
            for r in recurring.mine(uow.session, uow.actor_id)]
    return Message(text=present.render("recurring", uow.reader, rows=rows), kind="text")


def stop_recurring(present: Presenter, uow: UnitOfWork, cmd: c.StopRecurring) -> Message:
    made = recurring.stop(uow.session, uow.actor_id, cmd.recurring_id)
    return Message(text=present.headline(uow.reader, N_("Repetition #%(id)s stopped."), id=made.id), kind="text")


def announce(present: Presenter, platforms: Platforms, uow: UnitOfWork, cmd: c.Announce) -> Message:
    """Post now to every announcement channel, or schedule the post."""
    made = announcements.create(uow.session, uow.actor_id, cmd.text, channels=platforms.channels, now=uow.now,
                                post_at=cmd.post_at)
    if cmd.post_at is None:
        return Message(text=present.headline(uow.reader, N_("Announcement #%(id)s is posted to %(n)s channel(s)."),
                                             id=made.id, n=len(platforms.channels)), kind="text")
    return Message(text=present.headline(uow.reader, N_("Announcement #%(id)s will be posted on %(when)s."),
                                         id=made.id, when=when(cmd.post_at, uow.reader)), kind="text")


def close_announcement(present: Presenter, uow: UnitOfWork, cmd: c.CloseAnnouncement) -> Message:
    done = announcements.close(uow.session, uow.actor_id, cmd.announcement_id, now=uow.now)
    return Message(text=present.headline(uow.reader, N_("Announcement #%(id)s is closed."), id=done.id), kind="text")


def rsvp(present: Presenter, uow: UnitOfWork, cmd: c.Rsvp) -> Message:
    made = announcements.answer(uow.session, uow.actor_id, cmd.announcement_id, cmd.answer, now=uow.now)
    msgid = N_("You're in: #%(id)s.") if cmd.answer == "in" else N_("Noted, you can't make it: #%(id)s.")
    return Message(text=present.headline(uow.reader, msgid, id=made.id), kind="text")


def change_settings(present: Presenter, defaults, uow: UnitOfWork, cmd: c.ChangeSettings) -> Message:
    from core.services.settings_cmd import apply_settings

    reader = apply_settings(uow.session, uow.reader, cmd.args, defaults)
    return Message(text=present.render("settings", reader, lang=reader.lang, tz=reader.tz), kind="text")


def invite(present: Presenter, platforms: Platforms, uow: UnitOfWork) -> Message:
    made = invites.create_invite(uow.session, uow.actor_id, now=uow.now)
    link_of = platforms.invite_links.get(uow.reader.platform, lambda code: f"/start {code}")
    return Message(text=present.render("invite", uow.reader, link=link_of(made.code), days=invites.VALID_FOR.days),
                   kind="text")


def help_page(present: Presenter, uow: UnitOfWork, cmd: c.Help) -> Message:
    return Message(text=present.render("help", uow.reader, name=uow.reader.person.name), kind="text")
