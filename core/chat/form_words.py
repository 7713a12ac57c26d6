"""The form commands as the bus and the chat know them: typed handlers, and words read into commands.

`/form payment_request #42`, `/approve 42 [s17] [comment]`, `/pick 2 plane`,
`/skip`… read into the same typed commands a button carries
(core/services/commands.py).
"""
from __future__ import annotations

from core import forms as engine
from core.chat.form_dialogs import (
    FORM_ARGS, NOT_AN_ANSWER, PICK_ARGS, POSITION, PROBLEM_NEEDED, _back, _cancel, _escalate, _form, _pick, _skip,
    _submit,
)
from core.chat.step_dialogs import (
    NEEDS_ID, OUTCOME_NEEDED, STEP_VERBS, _approvals, _step, _withdraw, read_withdraw,
)
from core.domain.errors import BadInput
from core.services import commands as c


def handlers(chat) -> dict:
    """The typed form commands (buttons carry them; `READERS` reads them from words) for the bus."""
    def run(handler):
        return lambda uow, cmd: handler(chat, uow.session, uow.reader, cmd)
    return {
        **{kind: run(_step) for kind in STEP_VERBS.values()},
        c.PickAnswer: run(_pick), c.SkipField: run(_skip), c.BackField: run(_back), c.SubmitForm: run(_submit),
        c.CancelForm: run(_cancel), c.StartForm: run(_form), c.Escalate: run(_escalate),
        c.ListApprovals: run(_approvals), c.WithdrawRequest: run(_withdraw),
    }


def read_form(uow, args: str) -> c.StartForm:
    """`/form`, `/form leave_request`, `/form payment_request #42`."""
    args = args.strip()
    if not args:
        return c.StartForm()
    found = FORM_ARGS.match(args)
    if found is None:
        return c.StartForm(args.split()[0][:40])  # refused by name: there is no such form
    return c.StartForm(found.group(1), int(found.group(2)) if found.group(2) else None)


def read_escalate(uow, args: str) -> c.Escalate:
    if not args.strip():
        raise BadInput(PROBLEM_NEEDED)
    return c.Escalate(args.strip())


def _read_step(name: str):
    """`/approve 42 [s17] [comment]` and the others (core/forms/request_cards.py) -> the typed command."""
    def read(uow, args: str) -> c.StepCommand:
        found = engine.read_action(args)
        if found is None:
            raise BadInput(NEEDS_ID, name=name)
        if STEP_VERBS[name] is not c.ChooseOutcome:
            return STEP_VERBS[name](found.task_id, found.step_id, found.rest or None)
        outcome, comment = found.outcome, found.rest or None
        if outcome is None:
            words_ = found.rest.split(maxsplit=1)
            if not words_:
                raise BadInput(OUTCOME_NEEDED, id=found.task_id)
            outcome, comment = words_[0], (words_[1] if len(words_) > 1 else None)
        return c.ChooseOutcome(found.task_id, found.step_id, comment, outcome)
    return read


def _read_pick(uow, args: str) -> c.PickAnswer:
    found = PICK_ARGS.match(args.strip())
    if found is None:
        raise BadInput(NOT_AN_ANSWER)
    return c.PickAnswer(int(found.group(1)), found.group(2))


def _tapped_at(args: str) -> int | None:
    """A tapped Skip or Back names the question it was on; typed, it is whatever is asked now."""
    return int(args.strip()) if POSITION.match(args.strip()) else None


READERS = {
    **{name: _read_step(name) for name in STEP_VERBS},
    "pick": _read_pick,
    "skip": lambda uow, args: c.SkipField(_tapped_at(args)),
    "back": lambda uow, args: c.BackField(_tapped_at(args)),
    "submit": lambda uow, args: c.SubmitForm(),
    "cancel": lambda uow, args: c.CancelForm(),
    "form": read_form,
    "escalate": read_escalate,
    "approvals": lambda uow, args: c.ListApprovals(),
    "withdraw": read_withdraw,
}
