"""The shipped Slack app manifest declares what the adapter serves, and nothing it does not."""
from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.listeners.commands import COMMANDS

MANIFEST = Path(__file__).resolve().parent.parent / "adapters" / "slack" / "manifest.yaml"


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_every_slash_command_is_declared_and_known_to_the_core(app):
    declared = [c["command"].lstrip("/") for c in manifest()["features"]["slash_commands"]]
    assert declared == list(COMMANDS)
    assert set(declared) <= app.chat.words()


def test_commands_escape_mentions_and_everything_posts_to_slack_events():
    m = manifest()
    urls = {c["url"] for c in m["features"]["slash_commands"]}
    urls |= {m["settings"]["event_subscriptions"]["request_url"], m["settings"]["interactivity"]["request_url"]}
    assert {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}
    assert all(c["should_escape"] for c in m["features"]["slash_commands"])  # mentions arrive as member ids
    assert all(len(c["description"]) <= 100 for c in m["features"]["slash_commands"])


def test_the_events_and_scopes_match_what_the_listeners_need():
    m = manifest()
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "message.channels", "message.groups", "message.im"}
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "users:read.email", "channels:history",
            "groups:history", "im:history"} <= scopes
    assert m["features"]["app_home"]["home_tab_enabled"] and m["settings"]["interactivity"]["is_enabled"]
