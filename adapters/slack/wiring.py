"""Building the Web API client, the messenger and the bolt AsyncApp with Teamflow's dependencies."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors
from adapters.slack.durable import record_requests
from adapters.slack.listeners import register_listeners
from adapters.slack.members import Profiles
from adapters.slack.messenger import SlackMessenger
from adapters.slack.middleware import resolve_members, skip_retried_events
from core.infra.dedupe import MemorySeen

SLACK_API_URL = "https://slack.com/api/"
RETRY_IN_PLACE_S = 5  # a longer Retry-After goes back to the outbox instead of holding a worker


class ShortRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps Retry-After, then retries), for short waits only."""

    def __init__(self, max_wait_s: float = RETRY_IN_PLACE_S, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        waits = [v for k, v in response.headers.items() if k.lower() == "retry-after"]
        return not waits or float(waits[0][0]) <= self.max_wait_s


def retry_handlers() -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), ShortRateLimitRetry()]


def make_client(token: str, api_url: str | None = None) -> AsyncWebClient:
    """A Web API client for Slack, or for another base URL (a test fake)."""
    base_url = (api_url or SLACK_API_URL).rstrip("/") + "/"
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=retry_handlers())


def make_app(teamflow, slack: SlackMessenger, signing_secret: str, *, seen=None,
             profiles: Profiles | None = None) -> AsyncApp:
    """The AsyncApp: signatures checked (HTTP mode), retried events dropped, members resolved, listeners."""
    app = AsyncApp(client=slack.client, signing_secret=signing_secret, name="teamflow")
    app.middleware(skip_retried_events(seen or MemorySeen()))
    app.middleware(resolve_members(teamflow, slack, profiles or Profiles()))
    app.middleware(record_requests(teamflow, lambda: app))  # the inbox: recorded before any listener acknowledges
    register_listeners(app)
    errors.register(app)
    return app


async def connect(teamflow, token: str, signing_secret: str, *, api_url: str | None = None,
                  limiter=None, seen=None) -> tuple[AsyncApp, SlackMessenger]:
    """Check the token (auth.test), then wire the messenger and the app for this workspace."""
    client = make_client(token, api_url)
    await client.auth_test()
    slack = SlackMessenger(client, limiter, chat=teamflow.chat)
    return make_app(teamflow, slack, signing_secret, seen=seen), slack
