"""A bot step's service answers later: POST /forms/callback on the real web server, over loopback.

The service is a fake on 127.0.0.1 that checks the signature of the call it gets, answers
"wait", and later posts its signed answer to the callback URL the call told it.
"""
from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.runtime import web_app
from core.forms.automation import CALLBACK_PATH, SIGNATURE_HEADER, sign, verify
from core.infra import scheduler as scheduling
from tests.forms_desk import Desk
from tests.test_forms_bots import SECRET, on_loopback, supplier_desk


class LaterService:
    """Answers every call with "wait"; calls back when the test says so."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.base = ""  # Teamflow's public address, as the service is configured with it

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            return web.json_response({"error": "bad signature"}, status=401)
        self.calls.append(json.loads(body))
        return web.json_response({"decision": "wait", "comment": "Checking the registry"}, status=202)

    @property
    def callback(self) -> dict:
        return self.calls[-1]["step"]["callback"]

    async def call_back(self, answer: dict | None = None, *, raw: bytes | None = None, secret: str | None = SECRET,
                        step: int | None = None, url: str | None = None) -> tuple[int, dict]:
        """POST a signed answer to the callback URL; returns (status, JSON answer)."""
        if raw is None:
            raw = json.dumps({"step": step or self.callback["step"], **(answer or {})}).encode()
        body = raw
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        async with aiohttp.ClientSession() as http:
            async with http.post(url or self.base + self.callback["url"], data=body, headers=headers) as response:
                return response.status, await response.json()


@pytest.fixture
async def service():
    async with on_loopback(LaterService()) as found:
        yield found


@pytest.fixture
def desk(sqlite_store, clock, service, tmp_path, monkeypatch):
    return supplier_desk(sqlite_store, clock, service.url, tmp_path, monkeypatch)


@pytest.fixture
async def teamflow(desk, service):
    """Teamflow's own web server (bot/runtime.py's web_app) on loopback; the service knows its address."""
    server = TestServer(web_app(desk.app), host="127.0.0.1")
    await server.start_server()
    server.public = str(server.make_url("")).rstrip("/")
    service.base = server.public
    yield server
    await server.close()


async def waiting_request(desk: Desk, service: LaterService) -> int:
    """A supplier check whose bot has said it will answer later."""
    task_id = desk.start("pavel", "supplier_check", supplier="Resin LLC", inn="7701234567")
    await scheduling.call_bots(desk.app)  # the scheduler's job, as `teamflow run` runs it
    assert len(service.calls) == 1 and desk.view(task_id)["step"]["kind"] == "bot"
    return task_id


async def test_the_service_answers_later_through_the_web_server(desk, service, teamflow):
    task_id = await waiting_request(desk, service)
    step = desk.step_id(task_id)
    assert service.callback == {"step": step, "url": CALLBACK_PATH}  # the path on Teamflow's server
    status, answer = await service.call_back({"decision": "approve", "comment": "Risky", "fields": {"risk": "high"}})
    assert (status, answer) == (200, {"ok": True, "decision": "approve", "request": "active"})
    assert desk.step(task_id) == "lawyer" and desk.values(task_id)["risk"] == "high"
    assert desk.decisions(task_id) == [("bot", "approved")]
    # The same answer again (a retry, or a replay): the step no longer waits.
    status, answer = await service.call_back({"decision": "approve", "comment": "Risky", "fields": {"risk": "high"}})
    assert (status, answer["state"]) == (409, "approved") and "error" in answer
    # A step that is not a bot's cannot be answered by a service.
    status, answer = await service.call_back({"decision": "approve"}, step=desk.step_id(task_id))
    assert status == 401 and "error" in answer
    assert desk.step(task_id) == "lawyer"


async def test_the_endpoint_refuses_what_it_cannot_trust(desk, service, teamflow):
    task_id = await waiting_request(desk, service)
    approve = {"decision": "approve", "fields": {"risk": "low"}}
    assert (await service.call_back(approve, secret="not-the-secret"))[0] == 401
    assert (await service.call_back(approve, secret=None))[0] == 401  # no signature at all
    status, answer = await service.call_back(raw=b"not json")
    assert status == 400 and "JSON" in answer["error"]
    assert (await service.call_back(raw=b'{"decision": "approve"}'))[0] == 400  # no step named
    assert (await service.call_back(raw=b'["step", 1]'))[0] == 400
    # No such step answers as a bad signature does: ids cannot be probed without the secret.
    status, answer = await service.call_back(approve, step=99999)
    assert (status, answer) == (401, {"error": "unknown step or bad signature"})
    assert (await service.call_back(approve, step=10 ** 30))[0] == 401
    assert desk.step(task_id) == "check" and desk.view(task_id)["problem"] is None  # nothing of that counted
    async with aiohttp.ClientSession() as http:  # the rest of the server is still there
        async with http.get(f"{teamflow.public}/healthz") as response:
            assert response.status == 200


async def test_a_bad_answer_by_callback_is_recorded_and_shown(desk, service, teamflow):
    task_id = await waiting_request(desk, service)
    status, answer = await service.call_back({"decision": "maybe"})
    assert status == 422 and "unknown decision 'maybe'" in answer["error"]
    assert "bad callback: unknown decision 'maybe'" in desk.view(task_id)["problem"]
    for who in ("pavel", "olga"):  # the author and the admins
        assert desk.notices(who, "request_update")[-1].context["what"] == "bot_problem"
    assert desk.pending("olga") == [(task_id, "check")]  # an admin decides instead
    assert (await service.call_back({"decision": "approve"}))[0] == 409  # the bot's turn is over


