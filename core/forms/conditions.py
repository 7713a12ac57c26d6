"""Conditions on field values, written on one line in a form file.

    when: amount > 100000                      # money compares its amount
    when: amount.currency == USD and urgent    # `and` binds tighter than `or`
    show_if: doc_type in [other, letter]
    show_if: reasons has refund                # a multi-choice holds this option
    when: substitute is set

Operators: == != > >= < <= in, not in, has, is set, is empty; a bare field
(or `not field`) tests a yes/no. Values are YAML: 100000, RUB, [a, b], 2026-12-31.
A field that is empty or hidden makes every comparison false except `!=`,
`not in` and `is empty`.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import yaml

from core.forms.schema import Clause, Condition

CLAUSE = re.compile(
    r"^(?P<neg>not\s+)?(?P<field>[a-z][a-z0-9_]*)(?:\.(?P<part>[a-z_]+))?"
    r"(?:\s*(?P<op>==|!=|>=|<=|>|<|not\s+in\b|in\b|has\b|is\s+set\b|is\s+empty\b)\s*(?P<value>.*))?$"
)
NO_VALUE = ("is set", "is empty", "truthy", "falsy")


class ConditionError(ValueError):
    """The text is not a condition; the message says why."""


def parse_condition(text: str, line: int) -> Condition:
    """'amount > 100000 and urgent' -> a Condition, or ConditionError."""
    groups = []
    for group in re.split(r"\s+or\s+", str(text).strip()):
        groups.append(tuple(_clause(part.strip()) for part in re.split(r"\s+and\s+", group)))
    return Condition(tuple(groups), str(text).strip(), line)


def _clause(text: str) -> Clause:
    match = CLAUSE.match(text)
    if not match:
        raise ConditionError(f"cannot read '{text}' as a condition like 'amount > 100000'")
    op = " ".join((match.group("op") or "").split())
    if not op:
        op = "falsy" if match.group("neg") else "truthy"
    elif match.group("neg"):
        raise ConditionError(f"'not' goes only before a yes/no field: '{text}'")
    if op in NO_VALUE:
        if (match.group("value") or "").strip():
            raise ConditionError(f"'{op}' takes no value: '{text}'")
        return Clause(match.group("field"), match.group("part"), op)
    raw = (match.group("value") or "").strip()
    if not raw:
        raise ConditionError(f"'{text}' needs a value after '{op}'")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConditionError(f"cannot read the value '{raw}'") from None
    if op in ("in", "not in") and not isinstance(value, list):
        raise ConditionError(f"'{op}' needs a list like [a, b]: '{text}'")
    return Clause(match.group("field"), match.group("part"), op, value)


def fields_of(condition: Condition) -> list[Clause]:
    """Every clause, to check the fields they name."""
    return [clause for group in condition.groups for clause in group]


def holds(condition: Condition | None, values: dict) -> bool:
    """Does the condition hold for these values? (None always holds.)"""
    if condition is None:
        return True
    return any(all(_holds(clause, values) for clause in group) for group in condition.groups)


def _holds(clause: Clause, values: dict) -> bool:
    raw = values.get(clause.field)
    if isinstance(raw, dict):
        raw = raw.get(clause.part or "amount")
    empty = raw in (None, "", [], {})
    if clause.op in ("is set", "is empty"):
        return empty == (clause.op == "is empty")
    if clause.op in ("truthy", "falsy"):
        return bool(raw) == (clause.op == "truthy")
    if empty:
        return clause.op in ("!=", "not in")
    if clause.op == "has":
        return _norm(clause.value) in [_norm(v) for v in (raw if isinstance(raw, list) else [raw])]
    if clause.op in ("in", "not in"):
        chosen = {_norm(v) for v in (raw if isinstance(raw, list) else [raw])}
        found = bool(chosen & {_norm(v) for v in clause.value})
        return found == (clause.op == "in")
    return _compare(_norm(raw), clause.op, _norm(clause.value))


def _compare(left, op: str, right) -> bool:
    if isinstance(left, Decimal) != isinstance(right, Decimal):
        left, right = str(left), str(right)  # a number against a word: only == and != make sense
    try:
        return {"==": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
                "<": left < right, "<=": left <= right}[op]
    except TypeError:
        return False


def _norm(value):
    """Numbers as Decimal, dates as ISO text, words as text, so stored JSON and YAML agree."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return str(value)
