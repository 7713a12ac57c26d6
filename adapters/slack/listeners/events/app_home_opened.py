"""App Home: refreshed every time the member opens the tab."""
from __future__ import annotations

from adapters.slack.home import home_view
from core.infra.offloop import off_loop


async def on_home_opened(event, context) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab: nothing to draw
    teamflow, person_id = context["teamflow"], context["person_id"]
    await context["slack"].publish_home(event["user"], await off_loop(home_view, teamflow.chat, person_id))
