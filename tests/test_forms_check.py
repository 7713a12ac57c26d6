"""`teamflow forms check`: every problem named with its file and line; the built-in forms are clean."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from core.config.org import load_org
from core.forms import check_forms, load_forms
from core.forms.catalog import BUILTIN_DIR

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo" / "org.yaml"

BROKEN = """\
id: broken
title: {en: Broken, ru: Сломанная}
fields:
  - {id: amount, type: money, label: {en: Amount, ru: Сумма}}
  - {id: kind, type: choice, label: Kind, options: [{id: a}, {id: b}]}
  - {id: note, type: text, show_if: amont > 5}
  - {id: when, type: dat}
route:
  - id: manager
    kind: approve
    who: manager
    when: kind == c
    on_reject: cfo
  - id: cfo
    kind: approve
    who: role:cfoo
    next: nowhere
  - id: pay
    kind: work
    fields: [amount]
  - id: loop_a
    kind: decide
    who: author
    outcomes:
      - {id: again, next: loop_b}
  - id: loop_b
    kind: approve
    who: field:amount
    next: loop_a
    escalate: true
"""


def problems_of(tmp_path, text: str, **org) -> list[tuple[int, str]]:
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    found = check_forms(tmp_path, **org)
    assert all(p.file.endswith("broken.yaml") for p in found)
    return [(p.line, p.message) for p in found]


def test_each_problem_is_named_with_its_line(tmp_path):
    roles = {"cfo", "ceo", "accountant"}
    found = problems_of(tmp_path, BROKEN, roles=roles)
    assert found == [
        (6, "show_if of 'note': unknown field 'amont' in 'amont > 5'"),
        (7, "field 'when' has type 'dat'; use one of: text, long_text, number, money, date, datetime, period, "
            "choice, multi_choice, yes_no, person, file, link, email, phone, table, task"),
        (12, "when of step 'manager': 'kind' has no option c (in 'kind == c')"),
        (13, "on_reject of step 'manager' must return to an earlier step, not to 'cfo'"),
        (16, "step 'cfo': nobody in the org has the role 'cfoo'"),
        (17, "next of step 'cfo' names unknown step 'nowhere'"),
        (18, "nobody can act on step 'pay': it has no 'who'"),
        (28, "step 'loop_b': 'amount' is not a person field of this form"),
        (29, "the route loops: loop_a -> loop_b -> loop_a"),
        (30, "step 'loop_b' escalates but has no deadline"),
    ]


def test_syntax_errors_and_typos_point_at_their_line(tmp_path):
    assert problems_of(tmp_path, "title: x\nfields: [\n") == [
        (3, "not valid YAML: expected the node content, but found '<stream end>'")]
    text = "title: T\nfeilds: []\nroute:\n  - {id: a, kind: approve, who: nobody}\n"
    assert problems_of(tmp_path, text) == [
        (1, "'fields' must be a list of fields, each with id and type"),
        (2, "unknown key 'feilds' in the form (did you mean 'fields'?)"),
        (4, "who 'nobody' must be author, manager, chain, admins, role:<role>, person:<id> or field:<person field>"),
        (4, "nobody can act on step 'a': it has no 'who'"),
    ]


def test_a_field_or_step_id_used_twice_names_the_first_line(tmp_path):
    text = ("title: T\nfields:\n  - {id: a, type: text}\n  - {id: a, type: text}\n"
            "route:\n  - {id: s, kind: approve, who: author}\n  - {id: s, kind: approve, who: author}\n")
    assert problems_of(tmp_path, text) == [
        (4, "field id 'a' is used twice (first at line 3)"),
        (7, "step id 's' is used twice (first at line 6)"),
    ]


def test_an_unreachable_step_and_a_bad_table_action(tmp_path):
    text = """\
title: T
fields:
  - id: items
    type: table
    columns: [{id: what, type: text}, {id: who, type: text}]
route:
  - {id: a, kind: work, who: author, next: end}
  - {id: b, kind: work, who: author}
on_complete:
  - {tasks_from: items, title: what, assignee: who}
"""
    assert problems_of(tmp_path, text) == [
        (8, "step 'b' can never be reached"),
        (10, "assignee of tasks_from: 'who' is not a person column of 'items'"),
    ]


def test_the_built_in_forms_are_clean_against_the_demo_org():
    org = load_org(DEMO)
    roles, people = {r for p in org.people for r in p.roles}, {p.handle for p in org.people}
    assert check_forms(BUILTIN_DIR, roles=roles, people=people) == []
    forms = load_forms()
    assert [f.id for f in forms.all()] == ["contract_approval", "customer_complaint", "escalation", "leave_request",
                                           "meeting", "overtime", "payment_request"]
    assert forms.problems == []


def test_a_forms_dir_adds_and_overrides_by_id_and_leaves_broken_files_out(tmp_path):
    (tmp_path / "mine.yaml").write_text("id: overtime\ntitle: My overtime\nfields: [{id: a, type: text}]\n"
                                        "route: [{id: s, kind: acknowledge, who: role:hr}]\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("title: x\nroute: []\n", encoding="utf-8")
    forms = load_forms(tmp_path)
    assert forms.get("overtime").title.text("en") == "My overtime"
    assert forms.get("payment_request") is not None and forms.get("bad") is None
    assert {p.line for p in forms.problems} == {1, 2}


def test_the_cli_checks_a_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAMFLOW_ORG_FILE", str(DEMO))
    assert main(["forms", "check"]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    assert main(["forms", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'broken.yaml'}:16: step 'cfo': nobody in the org has the role 'cfoo'" in out
    assert out.strip().endswith("10 problem(s) in the form files")


@pytest.mark.parametrize("bad, message", [
    ("when: amount > lots", "'amount' holds a number; 'lots' is not one"),
    ("when: amount.size > 5", "'amount' is a money field and has no part 'size'"),
    ("when: kind > 5", "'kind' is a choice field: it cannot be compared with >"),
    ("when: kind in b", "'in' needs a list like [a, b]: 'kind in b'"),
    ("when: amount ==", "'amount ==' needs a value after '=='"),
])
def test_condition_mistakes(tmp_path, bad, message):
    text = ("title: T\nfields:\n  - {id: amount, type: money}\n"
            "  - {id: kind, type: choice, options: [{id: a}, {id: b}]}\n"
            f"route:\n  - id: s\n    kind: approve\n    who: author\n    {bad}\n")
    found = problems_of(tmp_path, text)
    assert len(found) == 1 and found[0][0] == 9 and message in found[0][1]


def test_the_cli_checks_one_file_as_a_folder_of_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEAMFLOW_ORG_FILE", str(DEMO))
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert main(["forms", "check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:16: step 'cfo': nobody in the org has the role 'cfoo'" in out
    assert out.strip().endswith("10 problem(s) in the form files")  # the same as the folder holding it
    assert main(["forms", "check", str(BUILTIN_DIR / "leave_request.yaml")]) == 0
    assert capsys.readouterr().out.strip() == f"{BUILTIN_DIR / 'leave_request.yaml'}: ok"


def test_a_path_with_nothing_there_is_an_error_not_ok(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEAMFLOW_ORG_FILE", str(DEMO))
    missing = tmp_path / "nonexistent"
    assert main(["forms", "check", str(missing)]) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.strip() == f"teamflow: forms check: no such file or folder: {missing}"
    with pytest.raises(FileNotFoundError):
        check_forms(missing)
