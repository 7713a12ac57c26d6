"""Checks of a form's route: who acts on each step, where each step leads, loops, dead ends."""
from __future__ import annotations

from core.forms.schema import AUTHOR, END, UP, Step, Who

REJECTING = ("approve", "bot")


class RouteChecks:
    """Mixed into the form checker: needs `form`, `roles`, `people`, `report` and `condition`."""

    # -- steps --

    def step(self, step: Step) -> None:
        where = f"step '{step.id}'"
        self.condition(step.when, f"when of {where}")
        if step.kind == "bot":
            self.bot(step)
        elif not step.who:
            self.report(step.line, f"nobody can act on {where}: it has no 'who'")
        self.who_list(step.who, where)
        if step.is_chain and len(step.who) > 1:
            self.report(step.line_of("who"), f"{where}: 'chain' climbs one manager at a time and stands alone")
        self.target(step.next, step, "next")
        if step.on_reject != END:
            self.rejection(step)
        for field_id in step.fields:
            if not self.form.field(field_id):
                self.report(step.line_of("fields"), f"{where} fills unknown field '{field_id}'")
        for outcome in step.outcomes:
            if outcome.next == UP and not step.is_chain:
                self.report(outcome.line, f"outcome '{outcome.id}' goes up, but {where} is not a 'chain' step")
            elif outcome.next != UP:
                self.target(outcome.next, step, f"next of outcome '{outcome.id}'", outcome.line)
        if step.escalate and step.deadline is None:
            self.report(step.line_of("escalate"), f"{where} escalates but has no deadline")

    def bot(self, step: Step) -> None:
        if not (step.url or "").startswith(("http://", "https://")):
            self.report(step.line_of("url"), f"bot step '{step.id}' needs a url starting with http:// or https://")
        if not (self.form.secret or self.form.secret_env):
            self.report(step.line, f"bot step '{step.id}' signs its calls: give the form a secret_env (or secret)")

    def rejection(self, step: Step) -> None:
        if step.kind not in REJECTING:
            self.report(step.line_of("on_reject"), f"step '{step.id}' is a {step.kind} step: nobody rejects it")
        elif step.on_reject != AUTHOR:
            index = self.form.index(step.on_reject)
            if index < 0:
                self.report(step.line_of("on_reject"), f"on_reject of step '{step.id}' names unknown step "
                                                       f"'{step.on_reject}' (or use end, author)")
            elif index > self.form.index(step.id):
                self.report(step.line_of("on_reject"), f"on_reject of step '{step.id}' must return to an earlier "
                                                       f"step, not to '{step.on_reject}'")

    def target(self, target: str | None, step: Step, what: str, line: int | None = None) -> None:
        if target and target != END and not self.form.step(target):
            self.report(line or step.line_of("next"), f"{what} of step '{step.id}' names unknown step '{target}'")

    def who_list(self, who: tuple[Who, ...], where: str) -> None:
        for entry in who:
            if entry.kind == "role" and self.roles is not None and entry.arg not in self.roles:
                self.report(entry.line, f"{where}: nobody in the org has the role '{entry.arg}'")
            elif entry.kind == "person" and self.people is not None and entry.arg not in self.people:
                self.report(entry.line, f"{where}: unknown person '{entry.arg}'")
            elif entry.kind == "field":
                target = self.form.field(entry.arg)
                if target is None or target.type != "person":
                    self.report(entry.line, f"{where}: '{entry.arg}' is not a person field of this form")

    # -- the route as a graph --

    def edges(self, step: Step, *, with_rework: bool = False) -> list[str]:
        """Where the route can go after `step` (rework returns only when asked)."""
        following = self.form.after(step)
        default = following.id if following else END
        found = [o.next or default for o in step.outcomes] or [step.next or default]
        if step.when is not None:
            found.append(default)  # a step whose condition fails is passed by
        if with_rework and step.on_reject not in (END, AUTHOR):
            found.append(step.on_reject)
        # An unknown target is reported once where it is written; here it counts as "the next step".
        found = [t if t in (END, UP) or self.form.step(t) else default for t in found]
        return [t for t in found if t not in (END, UP)]

    def cycles(self) -> None:
        """Forward moves (next, outcomes) must never come back: a loop would never end."""
        state: dict[str, str] = {}

        def visit(step: Step, path: list[str]) -> None:
            state[step.id] = "open"
            for target in self.edges(step):
                if state.get(target) == "open":
                    loop = " -> ".join(path[path.index(target):] + [target])
                    self.report(step.line_of("next"), f"the route loops: {loop}")
                elif target not in state:
                    visit(self.form.step(target), path + [target])
            state[step.id] = "done"

        for step in self.form.route:
            if step.id not in state:
                visit(step, [step.id])

    def reachable(self) -> None:
        if not self.form.route:
            return
        seen, todo = set(), [self.form.route[0].id]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.edges(self.form.step(current), with_rework=True)
        for step in self.form.route:
            if step.id not in seen:
                self.report(step.line, f"step '{step.id}' can never be reached")
