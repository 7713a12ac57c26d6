"""Bot steps against a real service on loopback that checks the HMAC signature of every call.

The form here exists only as a YAML file in a forms directory (TEAMFLOW_FORMS_DIR): no code knows it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core import forms
from core.domain.errors import BadInput
from core.forms import automation
from core.forms.automation import SIGNATURE_HEADER, sign, verify
from tests.conftest import make_app
from tests.forms_desk import Desk

SECRET = "s3cret-for-tests"
FORM = """
id: supplier_check
title: {en: Supplier check, ru: Проверка поставщика}
secret_env: SUPPLIER_BOT_SECRET
fields:
  - {id: supplier, type: text, label: {en: Supplier, ru: Поставщик}, required: true}
  - {id: inn, type: text, label: {en: Tax number, ru: ИНН}, required: true, pattern: "\\\\d{10}|\\\\d{12}"}
  - id: risk
    type: choice
    label: {en: Risk, ru: Риск}
    options: [{id: low, label: {en: Low, ru: Низкий}}, {id: high, label: {en: High, ru: Высокий}}]
route:
  - id: check
    kind: bot
    label: {en: Automatic check, ru: Автоматическая проверка}
    url: URL
    timeout: 0.5
    retries: 1
    fields: [risk]
  - id: lawyer
    kind: approve
    label: {en: Legal check, ru: Проверка юристом}
    who: role:lawyer
    when: risk == high
  - id: accountant
    kind: acknowledge
    label: {en: Accounting, ru: Бухгалтерия}
    who: role:accountant
"""


class Service:
    """The customer's service: answers from a script, refuses calls with a bad signature."""

    def __init__(self) -> None:
        self.answers: list = []
        self.received: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            return web.json_response({"error": "bad signature"}, status=401)
        self.received.append({"body": json.loads(body), "delivery": request.headers["X-Teamflow-Delivery"]})
        answer = self.answers.pop(0)
        if answer == "slow":
            await asyncio.sleep(2)
            answer = {"decision": "approve"}
        status, payload = answer if isinstance(answer, tuple) else (200, answer)
        return web.json_response(payload, status=status) if payload is not None else web.Response(status=status)


@contextlib.asynccontextmanager
async def on_loopback(found):
    """Serve `found.handle` at POST /check on 127.0.0.1 (its address goes to `found.url`)."""
    app = web.Application()
    app.router.add_post("/check", found.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = str(server.make_url("/check"))
    try:
        yield found
    finally:
        await server.close()


def supplier_desk(store, clock, url: str, forms_dir, monkeypatch) -> Desk:
    """A desk whose only extra form is the supplier check, calling the service at `url`."""
    monkeypatch.setenv("SUPPLIER_BOT_SECRET", SECRET)
    (forms_dir / "supplier_check.yaml").write_text(FORM.replace("URL", url), encoding="utf-8")
    return Desk(make_app(store, None, clock), clock, forms_dir=forms_dir)


@pytest.fixture
async def service():
    async with on_loopback(Service()) as found:
        yield found


@pytest.fixture
def desk(sqlite_store, clock, service, tmp_path, monkeypatch):
    return supplier_desk(sqlite_store, clock, service.url, tmp_path, monkeypatch)


async def call(desk: Desk, **delta) -> int:
    desk.clock.advance(**delta)
    return await automation.run_due(desk.store, desk.clock())


async def test_the_bot_approves_and_fills_a_field_and_the_route_goes_on(desk, service):
    service.answers = [{"decision": "approve", "comment": "Clean record", "fields": {"risk": "low"}}]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    assert desk.step(task_id) == "check"
    assert await call(desk) == 1
    sent = service.received[0]["body"]
    assert sent["request"]["values"] == {"supplier": "Resin LLC", "inn": "7701234567"}
    assert sent["request"]["form"] == "supplier_check" and sent["step"]["key"] == "check"
    assert desk.values(task_id)["risk"] == "low"
    assert desk.step(task_id) == "accountant"  # low risk: the lawyer is skipped
    assert desk.view(task_id)["decisions"][0] | {"at": None} == {
        "step": "Automatic check", "who": "bot", "at": None, "comment": "Clean record", "outcome": "approved"}
    assert await call(desk, minutes=5) == 0  # settled: never called again


async def test_a_failing_service_is_retried_then_its_high_risk_adds_the_lawyer(desk, service):
    service.answers = [(503, None), {"decision": "approve", "fields": {"risk": "high"}}]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="770123456789")
    assert await call(desk) == 1 and desk.step(task_id) == "check"
    assert await call(desk, seconds=10) == 0  # backing off
    assert await call(desk, seconds=25) == 1
    assert [r["delivery"] for r in service.received] == ["1:1", "1:2"]
    assert desk.step(task_id) == "lawyer"
    desk.do(forms.approve, "anna", task_id)
    desk.do(forms.acknowledge, "maria", task_id)
    assert desk.state(task_id) == ("done", "done")


async def test_the_bot_answers_later_by_a_signed_callback(desk, service):
    service.answers = [(202, None)]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    await call(desk)
    assert desk.view(task_id)["step"]["kind"] == "bot" and desk.step(task_id) == "check"
    step = desk.step_id(task_id)
    body = json.dumps({"step": step, "decision": "reject", "comment": "Sanctions list"}).encode()
    assert forms.handle_callback(desk.store, body, "sha256=forged", now=desk.clock())[0] == 401
    assert forms.handle_callback(desk.store, b"not json", sign(SECRET, b"not json"), now=desk.clock())[0] == 400
    status, answer = forms.handle_callback(desk.store, body, sign(SECRET, body), now=desk.clock())
    assert (status, answer["decision"], answer["request"]) == (200, "reject", "rejected")
    assert desk.state(task_id) == ("rejected", "cancelled")
    assert forms.handle_callback(desk.store, body, sign(SECRET, body), now=desk.clock())[0] == 409  # once only


async def test_a_bad_answer_is_recorded_told_and_an_admin_decides_instead(desk, service):
    service.answers = [{"decision": "maybe"}]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    await call(desk)
    assert "unknown decision 'maybe'" in desk.view(task_id)["problem"]
    for who in ("pavel", "olga"):  # the author and the admins
        assert desk.notices(who, "request_update")[-1].context["what"] == "bot_problem"
    assert "A bot step of" in desk.rendered("olga", "request_update").text
    assert desk.waiting(task_id) == ["Olga Reshetova"] and desk.pending("olga") == [(task_id, "check")]
    desk.do(forms.approve, "olga", task_id, comment="Checked by hand")
    assert desk.step(task_id) == "accountant"


async def test_a_service_that_never_answers_in_time_is_given_up_on(desk, service):
    service.answers = ["slow", "slow"]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    await call(desk)
    assert desk.view(task_id)["problem"] is None  # one retry left
    await call(desk, minutes=1)
    assert "no answer within 0.5 s (after 2 attempts)" in desk.view(task_id)["problem"]
    assert desk.waiting(task_id) == ["Olga Reshetova"]


async def test_bad_fields_from_the_bot_are_a_bad_answer(desk, service):
    service.answers = [{"decision": "approve", "fields": {"risk": "enormous"}}]
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    await call(desk)
    assert "fields:" in desk.view(task_id)["problem"] and desk.step(task_id) == "check"


def test_the_yaml_only_form_checks_clean_and_validates_its_fields(desk):
    assert forms.check_forms(desk.forms.get("supplier_check").file.rsplit("/", 1)[0]) == []
    with pytest.raises(BadInput):
        desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="12345")  # the pattern
