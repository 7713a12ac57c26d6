"""The composition root: the one place that builds everything, real or fake."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Sequence

from bot.settings import Settings
from core.chat.text import Chat
from core.config.org import Org, load_org, sync_org
from core.domain.clock import Clock, system_clock
from core.forms import Forms, load_forms
from core.infra.delivery import Delivery
from core.infra.inbox import Inbox
from core.infra.outbox import Messenger
from core.infra.store import Store
from core.presentation.notices import NoticeRenderer
from core.presentation.render import Templates
from core.services.people import Defaults
from core.services.task_handlers import Platforms

log = logging.getLogger(__name__)

DEMO_ORG = Path(__file__).resolve().parent / "demo" / "org.yaml"


@dataclass
class App:
    """Everything a running Teamflow needs, wired once."""

    settings: Settings
    store: Store
    defaults: Defaults
    templates: Templates
    chat: Chat
    delivery: Delivery
    clock: Clock
    org: Org | None = None
    messengers: list[Messenger] = field(default_factory=list)
    forms: Forms | None = None
    inbox: Inbox | None = None


def org_path(settings: Settings, *, demo: bool) -> Path | None:
    """The org file in force: the named one, ./org.yaml, or the demo org for the console."""
    path = settings.resolved_org_file()
    if path is None and demo:
        return DEMO_ORG
    return path


def build_app(
    settings: Settings, *, store: Store | None = None, messengers: Sequence[Messenger] = (),
    clock: Clock = system_clock, org_file: Path | None = None,
) -> App:
    """Wire store, org, templates, chat and delivery for the given messengers."""
    store = store or Store.from_url(settings.database_url)
    org = None
    if org_file is not None:
        org = load_org(org_file, default_timezone=settings.timezone, default_language=settings.language)
        with store.session() as session:
            sync_org(session, org, now=clock())
    defaults = Defaults(org.timezone, org.language) if org else Defaults(settings.timezone, settings.language)
    templates = Templates()
    roles = {r for p in org.people for r in p.roles} if org else None
    forms = load_forms(extra_dir=settings.forms_dir, roles=roles, people={p.handle for p in org.people} if org else None)
    chat = Chat(store, templates, defaults, clock, forms=forms, platforms=Platforms())
    delivery = Delivery(store, NoticeRenderer(templates, defaults, clock), [], clock)
    inbox = Inbox(store, clock, lease=timedelta(seconds=settings.inbox_lease))
    app = App(settings, store, defaults, templates, chat, delivery, clock, org, [], forms, inbox)
    for messenger in messengers:
        add_messenger(app, messenger)
    return app


def add_messenger(app: App, messenger: Messenger) -> None:
    """A platform joins: deliveries can use it, announcements go to its channels."""
    app.messengers.append(messenger)
    if messenger not in app.delivery.messengers:
        app.delivery.messengers.append(messenger)
    app.chat.platforms.channels[:] = announcement_channels(app.org, app.messengers)


def announcement_channels(org: Org | None, messengers: Sequence[Messenger]) -> list[tuple[str, str]]:
    """(platform, chat id) of every announcement channel on a running platform.
    The console has one channel of its own, seen by everyone at the terminal."""
    running = {m.platform for m in messengers}
    configured = (org.channels.get("announcements", {}) if org else {})
    found = [(platform, str(chat)) for platform, chats in configured.items() if platform in running for chat in chats]
    if "console" in running:
        found.append(("console", "announcements"))
    return found
