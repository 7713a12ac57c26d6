"""The org file (org.yaml): who is on the team, checked line by line and synced into the store.

An admin keeps the team in one YAML file. `check_org` lists every problem in it,
each with its line number; `load_org` returns an `Org` only when there are none;
`sync_org` makes the Person table match it. People who left the file are
deactivated, never deleted, so their tasks and history stay.

Line numbers come from PyYAML's node tree (`yaml.compose`), so each problem
points at the entry or value to fix.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from core.config.org_model import Org, OrgError, OrgPerson, Problem  # noqa: F401  (the org file's API)
from core.config.org_parser import _Parser
from core.config.org_sync import sync_org  # noqa: F401  (the org file's API)
from core.config.yamlread import compose


# --- reading -----------------------------------------------------------------


def check_org(
    path: str | Path, *, default_timezone: str = "UTC", default_language: str = "en"
) -> list[Problem]:
    """Every problem in the org file at `path`; an empty list means it is good."""
    _org, problems = _read_org(path, default_timezone, default_language)
    return problems


def load_org(
    path: str | Path, *, default_timezone: str = "UTC", default_language: str = "en"
) -> Org:
    """The org in the file at `path`; raises OrgError listing every problem."""
    org, problems = _read_org(path, default_timezone, default_language)
    if problems or org is None:
        raise OrgError(path, problems)
    return org


def _read_org(path: str | Path, default_timezone: str, default_language: str) -> tuple[Org | None, list[Problem]]:
    """Read the file and parse it; an unreadable file is one problem at line 0."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(0, "cannot read the org file: it is not UTF-8 text")]
    except OSError as exc:
        return None, [Problem(0, f"cannot read the org file: {exc.strerror or exc}")]
    return parse_org(text, default_timezone=default_timezone, default_language=default_language)


def parse_org(
    text: str, *, default_timezone: str = "UTC", default_language: str = "en"
) -> tuple[Org | None, list[Problem]]:
    """Parse org YAML: (org, []) when it is clean, else (None, every problem by line)."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    parser = _Parser(default_timezone, default_language)
    org = parser.org(root)
    problems = sorted(parser.problems, key=lambda p: p.line)
    return (None if problems else org), problems


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a Problem at the line PyYAML points to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem(mark.line + 1 if mark else 0, f"not valid YAML: {reason}")
