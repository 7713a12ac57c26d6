"""Form files: read with line numbers, checked, and gathered by form id.

Built-in forms ship in `core/forms/builtin/*.yaml`; a directory named by
TEAMFLOW_FORMS_DIR adds forms and overrides built-in ones with the same id.
A file with problems is left out (and `teamflow forms check` names each one).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode

from core.forms.nodes import Problem, compose, line
from core.forms.parse_fields import ID
from core.forms.parse_route import RouteReader
from core.forms.schema import Form, Label

log = logging.getLogger(__name__)
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
TOP_KEYS = ("id", "title", "description", "task_title", "fields", "route", "starters", "secret", "secret_env",
            "on_start", "on_complete")


def parse_form(text: str, file: str = "<form>") -> tuple[Form | None, list[Problem]]:
    """A form from YAML text: (form, problems). The form is None only when it cannot be read at all;
    a form with problems must not be used (see `check_form`)."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(file, mark.line + 1 if mark else 0, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    reader = RouteReader(file)
    if not isinstance(root, MappingNode):
        return None, [Problem(file, 1, "a form file is a mapping with title, fields and route")]
    keys = reader.mapping(root, TOP_KEYS, "the form")
    form_id = reader.text(keys.get("id"), "id") or Path(file).stem
    if not ID.fullmatch(form_id):
        reader.report(keys.get("id", root), f"form id '{form_id}' must be lowercase latin letters, digits and _")
    form = Form(
        id=form_id, file=file, line=line(root),
        title=reader.label(keys.get("title"), "title") or Label.of(form_id),
        description=reader.label(keys.get("description"), "description"),
        task_title=reader.label(keys.get("task_title"), "task_title"),
        fields=reader.fields(keys.get("fields")), route=reader.route(keys.get("route")),
        starters=reader.who(keys.get("starters")),
        secret=reader.text(keys.get("secret"), "secret"), secret_env=reader.text(keys.get("secret_env"), "secret_env"),
        on_start=reader.actions(keys.get("on_start"), "on_start"),
        on_complete=reader.actions(keys.get("on_complete"), "on_complete"),
        source=text, version=version_of(text),
    )
    if "title" not in keys:
        reader.report(root, "the form has no title, e.g. title: {en: Payment request, ru: Заявка на оплату}")
    return form, reader.problems


def version_of(text: str) -> str:
    """The SHA-256 of a form's text: the key its requests remember it by."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_file(path: Path) -> tuple[Form | None, list[Problem]]:
    """Parse one file; an unreadable file is one problem at line 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(str(path), 0, f"cannot read the form file: {exc}")]
    return parse_form(text, str(path))


def form_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


@dataclass
class Forms:
    """The forms in force, by id, and the problems of the files left out."""

    by_id: dict[str, Form] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, form_id: str) -> Form | None:
        return self.by_id.get((form_id or "").strip().lower())

    def all(self) -> list[Form]:
        return sorted(self.by_id.values(), key=lambda f: f.id)


def load_forms(extra_dir: Path | None = None, *, roles: set[str] | None = None,
               people: set[str] | None = None) -> Forms:
    """Built-in forms, then the ones in `extra_dir` (same id: the extra one wins)."""
    from core.forms.check import check_form  # the checks build on this module

    forms = Forms()
    for directory in filter(None, (BUILTIN_DIR, extra_dir)):
        for path in form_files(Path(directory)):
            form, problems = read_file(path)
            problems += check_form(form, roles=roles, people=people) if form else []
            if problems or form is None:
                forms.problems += problems
                log.warning("form file %s left out: %s", path, "; ".join(map(str, problems)))
                continue
            forms.by_id[form.id] = form
    return forms
