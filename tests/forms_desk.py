"""A desk for walking form requests in tests: the real app, store and use cases, a fixed clock."""
from __future__ import annotations

from sqlmodel import select

from core import forms
from core.domain.models import Outbox, Person, RequestStep, StepDecision, Task
from core.forms import automation
from core.presentation.notices import NoticeRenderer
from core.presentation.views import Reader

TZ = "Europe/Moscow"
FILE = {"file_id": "AgAD-file", "platform": "telegram", "name": "invoice.pdf"}


class Desk:
    """Who does what to which request, as one-line calls; each call is its own unit of work."""

    def __init__(self, app, clock, forms_dir=None) -> None:
        self.app, self.store, self.clock = app, app.store, clock
        self.forms = forms.load_forms(forms_dir)

    def id(self, handle: str) -> int:
        with self.store.session() as session:
            return session.exec(select(Person.id).where(Person.handle == handle)).one()

    def start(self, who: str, form_id: str, lang: str = "en", **values) -> int:
        with self.store.session() as session:
            out = forms.start(session, self.id(who), self.forms.get(form_id), values, now=self.clock(), tz=TZ,
                              lang=lang)
            return out.task.id

    def do(self, use_case, who: str, task_id: int, *args, **kwargs):
        """Run a use case as `who`; returns its outcome (refusals propagate)."""
        with self.store.session() as session:
            return use_case(session, self.id(who), task_id, *args, now=self.clock(), **kwargs)

    def view(self, task_id: int, who: str = "olga", lang: str = "en") -> dict:
        with self.store.session() as session:
            person = session.get(Person, self.id(who))
            return forms.request_view(session, session.get(Task, task_id), Reader(person, lang, TZ), self.clock())

    def step(self, task_id: int) -> str | None:
        """The current step's id in the form ('rework' when returned), or None when the route is over."""
        view = self.view(task_id)
        if view["step"] is None:
            return None
        with self.store.session() as session:
            request = forms.records.request_of_task(session, task_id)
            return session.get(RequestStep, request.current_step_id).step_key

    def step_id(self, task_id: int) -> int:
        with self.store.session() as session:
            return forms.records.request_of_task(session, task_id).current_step_id

    def waiting(self, task_id: int) -> list[str]:
        view = self.view(task_id)
        return view["step"]["waiting"] if view["step"] else []

    def state(self, task_id: int) -> tuple[str, str]:
        """(request state, task status)."""
        with self.store.session() as session:
            request = forms.records.request_of_task(session, task_id)
            return request.state, session.get(Task, task_id).status

    def values(self, task_id: int) -> dict:
        with self.store.session() as session:
            return forms.records.request_of_task(session, task_id).values

    def pending(self, who: str) -> list[tuple[int, str]]:
        with self.store.session() as session:
            return [(p.task_id, p.row.step_key) for p in forms.pending_for(session, self.id(who))]

    def decisions(self, task_id: int) -> list[tuple[str, str]]:
        return [(d["who"], d["outcome"]) for d in self.view(task_id)["decisions"]]

    def tick(self, **delta) -> int:
        self.clock.advance(**delta)
        return automation.tick(self.store, self.clock())

    def notices(self, who: str, template: str | None = None) -> list[Outbox]:
        with self.store.session() as session:
            stmt = select(Outbox).where(Outbox.recipient_id == self.id(who)).order_by(Outbox.id)
            return [o for o in session.exec(stmt) if template is None or o.template == template]

    def rendered(self, who: str, template: str, platform: str = "console"):
        """The last notice of a kind for a person, rendered as they would get it now."""
        row = self.notices(who, template)[-1]
        renderer = NoticeRenderer(self.app.templates, self.app.defaults, self.clock)
        with self.store.session() as session:
            return renderer.notice(session, row, session.get(Person, row.recipient_id), platform)

    def decision_rows(self, task_id: int) -> list[StepDecision]:
        with self.store.session() as session:
            request = forms.records.request_of_task(session, task_id)
            return list(session.exec(select(StepDecision).join(RequestStep, RequestStep.id == StepDecision.step_id)
                                     .where(RequestStep.request_id == request.id)))
