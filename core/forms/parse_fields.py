"""The `fields:` of a form file -> Field objects (problems reported by line)."""
from __future__ import annotations

import re
from decimal import Decimal

from yaml.nodes import Node, SequenceNode

from core.forms.conditions import ConditionError, parse_condition
from core.forms.nodes import NodeReader, is_null, line
from core.forms.schema import COLUMN_TYPES, FIELD_TYPES, Field, Label, Option

ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
CURRENCY = re.compile(r"[A-Z]{3}")
FIELD_KEYS = ("id", "type", "label", "hint", "required", "min", "max", "pattern", "options", "multiple",
              "currency", "currencies", "columns", "show_if", "required_from", "locked_from")
OPTION_KEYS = ("id", "label")


class FieldReader(NodeReader):
    """Reads field lists; a table's columns are fields too."""

    def labelled(self, node: SequenceNode, keys: tuple[str, ...], what: str, kind: str):
        """Each entry of a list of {id, label, …} (options, outcomes): (item, keys, id, label);
        an entry without a usable id is reported and left out."""
        for item in node.value:
            found = self.mapping(item, keys, what)
            entry_id = self.text(found.get("id"), f"{kind} id")
            if entry_id is None or not ID.fullmatch(entry_id):
                self.report(item, f"{what} needs an id of lowercase latin letters, digits and _")
                continue
            yield item, found, entry_id, self.label(found.get("label"), f"{kind} label") or Label.of(entry_id)

    def fields(self, node: Node | None, *, columns: bool = False) -> tuple[Field, ...]:
        where = "columns" if columns else "fields"
        if is_null(node) or not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"'{where}' must be a list of fields, each with id and type")
            return ()
        return self.unique((self.field(item, COLUMN_TYPES if columns else FIELD_TYPES) for item in node.value),
                           "field")

    def unique(self, parsed, kind: str) -> tuple:
        """The parsed items (fields, steps) that read, each id once; a repeated id is reported."""
        found, seen = [], {}
        for item in parsed:
            if item is None:
                continue
            if item.id in seen:
                self.report(item.line, f"{kind} id '{item.id}' is used twice (first at line {seen[item.id]})")
                continue
            seen[item.id] = item.line
            found.append(item)
        return tuple(found)

    def field(self, node: Node, types: tuple[str, ...]) -> Field | None:
        keys = self.mapping(node, FIELD_KEYS, "a field")
        if not keys:
            return None
        field_id, kind = self.text(keys.get("id"), "id"), self.text(keys.get("type"), "type")
        if field_id is None or not ID.fullmatch(field_id):
            self.report(keys.get("id", node), f"field id '{field_id or ''}' must be lowercase latin letters, "
                                              "digits and _ (like pay_by)")
            return None
        if kind not in types:
            self.report(keys.get("type", node), f"field '{field_id}' has type '{kind or ''}'; "
                                                f"use one of: {', '.join(types)}")
            return None
        label = self.label(keys.get("label"), f"label of '{field_id}'") or Label.of(field_id)
        return Field(
            id=field_id, type=kind, label=label, line=line(node), hint=self.label(keys.get("hint"), "hint"),
            required=self.flag(keys.get("required"), f"required of '{field_id}'"),
            min=self.bound(keys.get("min"), field_id, "min"), max=self.bound(keys.get("max"), field_id, "max"),
            pattern=self.pattern(keys.get("pattern"), field_id),
            options=self.options(keys.get("options"), field_id, kind),
            multiple=self.flag(keys.get("multiple"), f"multiple of '{field_id}'"),
            currency=self.currency(keys.get("currency"), field_id) or "RUB",
            currencies=tuple(self.currencies(keys.get("currencies"), field_id)),
            columns=self.fields(keys.get("columns"), columns=True) if kind == "table" else (),
            show_if=self.condition(keys.get("show_if")),
            required_from=self.text(keys.get("required_from"), "required_from"),
            locked_from=self.text(keys.get("locked_from"), "locked_from"),
        )

    def bound(self, node: Node | None, field_id: str, key: str) -> Decimal | None:
        value = self.number(node, f"{key} of '{field_id}'")
        return None if value is None else Decimal(str(value))

    def pattern(self, node: Node | None, field_id: str) -> str | None:
        value = self.text(node, f"pattern of '{field_id}'")
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                self.report(node, f"pattern of '{field_id}' is not a regular expression: {exc}")
                return None
        return value

    def options(self, node: Node | None, field_id: str, kind: str) -> tuple[Option, ...]:
        if kind not in ("choice", "multi_choice"):
            if not is_null(node):
                self.report(node, f"'{field_id}' is a {kind} field: options belong to choice fields")
            return ()
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"choice field '{field_id}' needs options: a list of "
                                                         "{id: …, label: {en: …, ru: …}}")
            return ()
        return tuple(Option(option_id, label) for _item, _keys, option_id, label
                     in self.labelled(node, OPTION_KEYS, f"an option of '{field_id}'", "option"))

    def currency(self, node: Node | None, field_id: str) -> str | None:
        value = self.text(node, f"currency of '{field_id}'")
        if value is not None and not CURRENCY.fullmatch(value):
            self.report(node, f"currency of '{field_id}' must be a code like RUB, USD or EUR")
            return None
        return value

    def currencies(self, node: Node | None, field_id: str) -> list[str]:
        found = []
        for code, at in self.words(node, f"currencies of '{field_id}'"):
            if CURRENCY.fullmatch(code):
                found.append(code)
            else:
                self.report(at, f"'{code}' in currencies of '{field_id}' is not a code like RUB")
        return found

    def condition(self, node: Node | None):
        """A condition on one line; its fields are checked once every field is known."""
        text = self.text(node, "a condition")
        if text is None:
            return None
        try:
            return parse_condition(text, line(node))
        except ConditionError as exc:
            self.report(node, str(exc))
            return None
