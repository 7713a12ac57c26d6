"""The `teamflow` command: run, console, db upgrade, org check, forms check."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.settings import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `teamflow` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"teamflow: configuration error: {line}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teamflow", description="Tasks, forms and approvals in your team's chats.")
    sub = parser.add_subparsers(required=True, metavar="command")
    run = sub.add_parser("run", help="start every configured platform (the console chat when none is)")
    run.set_defaults(func=cmd_run)
    console = sub.add_parser("console", help="the chat in this terminal; /as <person> switches who you are")
    console.add_argument("--as", dest="handle", help="start as this person (default: the first admin)")
    console.set_defaults(func=cmd_console)
    db = sub.add_parser("db", help="database schema").add_subparsers(required=True, metavar="action")
    db.add_parser("upgrade", help="apply every migration").set_defaults(func=cmd_db_upgrade)
    org = sub.add_parser("org", help="the org file").add_subparsers(required=True, metavar="action")
    check = org.add_parser("check", help="report every problem in the org file, with its line")
    check.add_argument("file", nargs="?", help="default: TEAMFLOW_ORG_FILE or ./org.yaml")
    check.set_defaults(func=cmd_org_check)
    forms = sub.add_parser("forms", help="the form files").add_subparsers(required=True, metavar="action")
    forms_check = forms.add_parser("check", help="report every problem in the form files, with file and line")
    forms_check.add_argument("dir", nargs="?", metavar="path",
                             help="a folder of form files or one file (default: the built-in forms and "
                                  "TEAMFLOW_FORMS_DIR)")
    forms_check.set_defaults(func=cmd_forms_check)
    hooks = sub.add_parser("webhooks", help="the org file's webhooks: how far each has sent, failures given up on")
    hooks.add_argument("--last", type=int, default=20, help="how many given-up events to list (default 20)")
    hooks.set_defaults(func=cmd_webhooks, replay=None)
    hook_actions = hooks.add_subparsers(metavar="action")
    replay = hook_actions.add_parser("replay", help="send a given-up event again, now")
    replay.add_argument("failure", type=int, help="its number in the list (#)")
    replay.set_defaults(func=cmd_webhooks_replay)
    return parser


def cmd_db_upgrade(args) -> int:
    from bot.db import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print(f"database is up to date: {_safe_url(settings.database_url)}")
    return 0


def cmd_org_check(args) -> int:
    from core.config.org import check_org

    settings = load_settings()
    path = Path(args.file) if args.file else settings.resolved_org_file()
    if path is None:
        print("teamflow: no org file: pass one, set TEAMFLOW_ORG_FILE, or create ./org.yaml", file=sys.stderr)
        return 2
    problems = check_org(path, default_timezone=settings.timezone, default_language=settings.language)
    for problem in problems:
        print(f"{path}:{problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {path}")
        return 1
    print(f"{path}: ok")
    return 0


def cmd_webhooks(args) -> int:
    """The webhooks as the running workers see them (the org file is synced at start)."""
    from core.infra import webhook_admin
    from core.infra.store import Store

    store = Store.from_url(load_settings().database_url)
    with store.session() as session:
        for line in webhook_admin.report(session, last=max(args.last, 0)):
            print(line)
    return 0


def cmd_webhooks_replay(args) -> int:
    import asyncio

    from core.infra import webhook_admin
    from core.infra.store import Store

    taken, said = asyncio.run(webhook_admin.replay(Store.from_url(load_settings().database_url), args.failure))
    print(said, file=sys.stdout if taken else sys.stderr)
    return 0 if taken else 1


def cmd_forms_check(args) -> int:
    """Every problem of the form files; roles and people are checked against the org file when there is one."""
    from core.forms.catalog import BUILTIN_DIR, check_forms
    from core.config.org import OrgError, load_org

    settings = load_settings()
    dirs = [Path(args.dir)] if args.dir else [BUILTIN_DIR, *filter(None, [settings.forms_dir])]
    roles = people = None
    org_file = settings.resolved_org_file()
    if org_file is not None:
        try:
            org = load_org(org_file, default_timezone=settings.timezone, default_language=settings.language)
            roles, people = {r for p in org.people for r in p.roles}, {p.handle for p in org.people}
        except OrgError as exc:
            print(f"teamflow: roles are not checked: {exc}", file=sys.stderr)
    try:
        problems = [p for directory in dirs for p in check_forms(directory, roles=roles, people=people)]
    except FileNotFoundError as exc:
        print(f"teamflow: forms check: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the form files")
        return 1
    print(f"{', '.join(map(str, dirs))}: ok")
    return 0


def cmd_run(args) -> int:
    settings = load_settings()
    if not settings.platforms:
        return cmd_console(args)
    if "slack" in settings.platforms and not (settings.slack_signing_secret or settings.slack_app_token):
        raise ConfigError("SLACK_SIGNING_SECRET: required for Slack's HTTP mode "
                          "(or set SLACK_APP_TOKEN for Socket Mode)")
    from bot.db import upgrade
    from bot.runtime import run_platforms

    upgrade(settings.database_url)
    try:
        asyncio.run(run_platforms(settings))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_console(args) -> int:
    from adapters.console.messenger import ConsoleMessenger
    from adapters.console.repl import run_console
    from bot.app import build_app, org_path
    from bot.db import upgrade
    from core.config.org import OrgError

    settings = load_settings()
    upgrade(settings.database_url)
    messenger = ConsoleMessenger()
    try:
        app = build_app(settings, messengers=[messenger], org_file=org_path(settings, demo=True))
    except OrgError as exc:
        print(f"teamflow: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run_console(app, messenger, getattr(args, "handle", None)))
    return 0


def _safe_url(url: str) -> str:
    """The URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
