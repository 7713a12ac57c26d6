"""The two ways Slack reaches us: HTTP (POST /slack/events) or Socket Mode.

HTTP mode mounts bolt on the one aiohttp server; bolt verifies every
request's signature and refuses one older than 5 minutes (401). Socket Mode
(SLACK_APP_TOKEN set) needs no public URL: the app dials out to Slack.
"""
from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

EVENTS_PATH = "/slack/events"


def register_events(server: web.Application, app: AsyncApp, path: str = EVENTS_PATH) -> None:
    """`POST /slack/events`: slash commands, interactions and events, all through bolt."""
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server.router.add_post(path, slack_events)


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over a WebSocket; `await handler.close_async()` to stop."""
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    return handler
