"""The `route:` and the actions of a form file -> Step and Action objects."""
from __future__ import annotations

from yaml.nodes import Node, SequenceNode

from core.domain.policy import duration
from core.forms.nodes import is_null, line
from core.forms.parse_fields import ID, FieldReader
from core.forms.schema import END, STEP_KINDS, WHO_KINDS, WHO_WORDS, Action, Label, Outcome, Step, Who
from core.forms.timing import parse_deadline

STEP_KEYS = ("id", "kind", "label", "who", "mode", "when", "deadline", "remind_every", "escalate", "next",
             "on_reject", "fields", "outcomes", "url", "timeout", "retries", "wait")
OUTCOME_KEYS = ("id", "label", "next")
ACTION_KEYS = ("tasks_from", "title", "assignee", "due", "announce", "notify", "text")
DEFAULT_MODE = {"acknowledge": "all"}


class RouteReader(FieldReader):
    """Reads steps, who-lists and actions (after FieldReader has read the fields)."""

    def route(self, node: Node | None) -> tuple[Step, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, "'route' must be a list of steps, each with id and kind")
            return ()
        return self.unique((self.step(item) for item in node.value), "step")

    def step(self, node: Node) -> Step | None:
        keys = self.mapping(node, STEP_KEYS, "a step")
        if not keys:
            return None
        step_id, kind = self.text(keys.get("id"), "step id"), self.text(keys.get("kind"), "kind")
        if step_id is None or not ID.fullmatch(step_id) or step_id in (END, "up", "author"):
            self.report(keys.get("id", node), f"step id '{step_id or ''}' must be lowercase latin letters, "
                                              "digits and _ (and not end, up or author)")
            return None
        if kind not in STEP_KINDS:
            self.report(keys.get("kind", node), f"step '{step_id}' has kind '{kind or ''}'; "
                                                f"use one of: {', '.join(STEP_KINDS)}")
            return None
        mode = self.text(keys.get("mode"), "mode") or DEFAULT_MODE.get(kind, "any")
        if mode not in ("all", "any"):
            self.report(keys["mode"], f"mode of step '{step_id}' must be all or any")
        return Step(
            id=step_id, kind=kind, line=line(node), mode=mode,
            label=self.label(keys.get("label"), f"label of step '{step_id}'") or Label.of(step_id),
            who=self.who(keys.get("who")), when=self.condition(keys.get("when")),
            deadline=self.deadline(keys.get("deadline"), step_id),
            escalate=self.flag(keys.get("escalate"), "escalate"),
            next=self.text(keys.get("next"), "next"), on_reject=self.text(keys.get("on_reject"), "on_reject") or END,
            fields=tuple(word for word, _ in self.words(keys.get("fields"), "fields")),
            outcomes=self.outcomes(keys.get("outcomes"), step_id, kind),
            url=self.text(keys.get("url"), "url"), wait=self.flag(keys.get("wait"), "wait"),
            timeout=float(self.number(keys.get("timeout"), "timeout") or 10),
            retries=int(self.number(keys.get("retries"), "retries", whole=True) or 3),
            lines=tuple((key, line(value)) for key, value in keys.items()),
            **self.remind(keys.get("remind_every")),
        )

    def deadline(self, node: Node | None, step_id: str):
        text = self.text(node, "deadline")
        if text is None:
            return None
        found = parse_deadline(text)
        if found is None:
            self.report(node, f"deadline of step '{step_id}' must be like 24h, 3 days or 2 working days")
        return found

    def remind(self, node: Node | None) -> dict:
        text = self.text(node, "remind_every")
        if text is None:
            return {}
        every = duration(text)
        if every is None:
            self.report(node, "remind_every must be like 1d, 4h or 30m")
            return {}
        return {"remind_every": every}

    def who(self, node: Node | None) -> tuple[Who, ...]:
        """author, manager, chain, admins, role:<role>, person:<id>, field:<person field>."""
        found = []
        for word, at in self.words(node, "who"):
            kind, _, arg = word.partition(":")
            if (kind in WHO_WORDS and not arg) or (kind in WHO_KINDS and arg.strip()):
                found.append(Who(kind, arg.strip() or None, at))
            else:
                self.report(at, f"who '{word}' must be author, manager, chain, admins, role:<role>, "
                                "person:<id> or field:<person field>")
        return tuple(found)

    def outcomes(self, node: Node | None, step_id: str, kind: str) -> tuple[Outcome, ...]:
        if kind not in ("decide", "bot") or (kind == "bot" and is_null(node)):
            if not is_null(node):
                self.report(node, f"step '{step_id}' is a {kind} step: outcomes belong to decide and bot steps")
            return ()
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"decide step '{step_id}' needs outcomes: a list of "
                                                         "{id: …, label: …, next: …}")
            return ()
        return tuple(Outcome(outcome_id, label, line(item), self.text(keys.get("next"), "next"))
                     for item, keys, outcome_id, label
                     in self.labelled(node, OUTCOME_KEYS, f"an outcome of '{step_id}'", "outcome"))

    def actions(self, node: Node | None, where: str) -> tuple[Action, ...]:
        if is_null(node):
            return ()
        if not isinstance(node, SequenceNode):
            self.report(node, f"'{where}' must be a list of actions (tasks_from, announce, notify)")
            return ()
        return tuple(a for a in (self.action(item, where) for item in node.value) if a is not None)

    def action(self, node: Node, where: str) -> Action | None:
        keys = self.mapping(node, ACTION_KEYS, f"an action of '{where}'")
        kinds = [k for k in ("tasks_from", "announce", "notify") if k in keys]
        if len(kinds) != 1:
            self.report(node, f"each action of '{where}' is one of tasks_from, announce or notify")
            return None
        kind, at = kinds[0], line(node)
        if kind == "tasks_from":
            return Action(kind, at, field=self.text(keys["tasks_from"], "tasks_from"),
                          title=self.text(keys.get("title"), "title"),
                          assignee=self.text(keys.get("assignee"), "assignee"), due=self.text(keys.get("due"), "due"))
        if kind == "announce":
            return Action(kind, at, text=self.label(keys["announce"], "announce"))
        return Action(kind, at, who=self.who(keys["notify"]), text=self.label(keys.get("text"), "text"))
