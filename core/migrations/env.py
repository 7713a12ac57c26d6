"""Alembic environment: the URL comes from the caller (bot.db), never a global file."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from core.domain import models  # noqa: F401  (registers the tables)
from core.infra.store import MIGRATIONS_LOCK, exclusive, make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    # render_as_batch: SQLite can't ALTER most things, so Alembic copies tables.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        # Several workers may start at once and each runs `teamflow db upgrade`:
        # one migrates, the others wait and then find nothing to do.
        exclusive(connection, MIGRATIONS_LOCK)
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
