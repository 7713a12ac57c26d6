"""The web server's limits: slow, idle, oversized and too many clients are cut off.

aiohttp alone waits an hour for a client that drips its headers a byte a
second and never caps connections. Here:
- headers and idle keep-alive: aiohttp's `keepalive_timeout` fires whenever the
  connection waits for a request's headers (from connect, and after each answer);
- the body: read by `guard` within `body_timeout_s` (408 past it), at most
  `max_body_bytes` (413, aiohttp's `client_max_size`);
- connections: past `max_connections` a new one is answered 503 and closed;
- an error in a handler answers 500 with JSON and no traceback; it is logged.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Limits:
    """HTTP_HEADER_TIMEOUT, HTTP_BODY_TIMEOUT, HTTP_MAX_CONNECTIONS, HTTP_MAX_BODY_BYTES."""

    header_timeout_s: float = 5.0
    body_timeout_s: float = 10.0
    max_connections: int = 500
    max_body_bytes: int = 1024 * 1024

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.http_header_timeout, settings.http_body_timeout, settings.http_max_connections,
                   settings.http_max_body_bytes)


def error(status: int, text: str) -> web.Response:
    """Every refusal of the web server: JSON {"error": …}, nothing more."""
    return web.json_response({"error": text}, status=status)


async def closing(request: web.Request, response: web.Response) -> web.Response:
    """Answer, then hang up: the rest of that body is never read (aiohttp would linger for it)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def guard(limits: Limits):
    """Middleware: the whole body within the time limit, and no handler error leaks out."""
    @web.middleware
    async def guarded(request: web.Request, handler) -> web.StreamResponse:
        try:
            async with asyncio.timeout(limits.body_timeout_s):
                await request.read()  # aiohttp keeps it: handlers read it again for free
        except TimeoutError:
            return await closing(request, error(408, f"the body took longer than {limits.body_timeout_s:g} s"))
        except web.HTTPRequestEntityTooLarge:
            return await closing(request, error(413, f"the body is larger than {limits.max_body_bytes} bytes"))
        try:
            return await handler(request)
        except web.HTTPException:
            raise  # aiohttp's own answers: 404, 405, 413…
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return error(500, "internal error; nothing was changed by this request")
    return guarded


def application(limits: Limits) -> web.Application:
    """An aiohttp Application with the guard and the body cap."""
    return web.Application(middlewares=[guard(limits)], client_max_size=limits.max_body_bytes)


class LimitedSite(web.BaseSite):
    """A TCP site that turns away connections beyond the cap with a 503 and a close."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: Limits) -> None:
        super().__init__(runner)
        self._host, self._port, self._limits = host, port, limits

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def admit() -> asyncio.Protocol:
            if len(server.connections) >= self._limits.max_connections:
                return _Busy()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(admit, self._host, self._port, reuse_address=True)


class _Busy(asyncio.Protocol):
    """One connection too many: a short 503, then the door closes."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        body = b'{"error": "too many connections"}'
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        transport.close()


async def serve(server: web.Application, host: str, port: int, limits: Limits) -> web.AppRunner:
    """Start the web server with its limits; `await runner.cleanup()` stops it."""
    runner = web.AppRunner(server, keepalive_timeout=limits.header_timeout_s)
    await runner.setup()
    await LimitedSite(runner, host, port, limits).start()
    return runner
