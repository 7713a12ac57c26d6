"""Who is behind a Slack member id: their profile (e-mail, locale) and the Teamflow member.

Slack's payloads carry only the member id, so the e-mail (to find people the
org file names by e-mail only) and the locale (the language hint) come from
users.info, asked at most once an hour per member.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.infra.offloop import off_loop_read
from core.presentation.i18n import normalize
from core.services.identity import slack_member_id

log = logging.getLogger(__name__)

PROFILE_TTL_S = 3600.0


@dataclass(frozen=True)
class Profile:
    email: str | None = None
    locale: str | None = None


class Profiles:
    """users.info answers, kept for an hour (a small team asks once per person per hour)."""

    def __init__(self, ttl_s: float = PROFILE_TTL_S, clock=time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._known: dict[str, tuple[float, Profile]] = {}

    async def get(self, client: AsyncWebClient, user_id: str) -> Profile:
        """The member's profile; an empty one when Slack cannot say (we still try the member id)."""
        kept = self._known.get(user_id)
        if kept and self.clock() - kept[0] < self.ttl_s:
            return kept[1]
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return Profile()
        user = response["user"]
        profile = Profile(email=(user.get("profile") or {}).get("email"), locale=user.get("locale"))
        self._known[user_id] = (self.clock(), profile)
        return profile


@dataclass(frozen=True)
class Member:
    """The resolved actor: a member id, or None for a stranger (answered in `lang`, their Slack locale's)."""

    person_id: int | None
    lang: str


async def resolve(teamflow, client: AsyncWebClient, profiles: Profiles, user_id: str) -> Member:
    """By member id, then by e-mail (learning the id); the Slack locale becomes the language hint.
    A read on a database thread, writing only when something changed: it runs before the ack."""
    profile = await profiles.get(client, user_id)
    person_id = await off_loop_read(slack_member_id, teamflow.store, user_id, profile.email, profile.locale,
                               teamflow.clock())
    return Member(person_id, normalize(profile.locale, normalize(teamflow.defaults.language)))
