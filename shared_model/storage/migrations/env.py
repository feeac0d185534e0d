"""Alembic environment for lstmgen's schema (``shared_model.storage.models.Base``).

Run by ``shared_model.storage.migrate`` with an open connection (inside the caller's
transaction, which also holds the migration lock), or by the ``alembic`` tool with
``-c shared_model/storage/migrations/alembic.ini`` for authoring revisions, in which case
the URL comes from ``-x url=...`` or ``LSTMGEN_DB_URL`` via Settings.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from shared_model.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, **kwargs)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url")
    if url:
        return url
    from shared_model.settings import Settings

    return Settings.from_env().db_url


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from shared_model.storage.db import make_engine, writer

    engine = writer(make_engine(_url()))
    try:
        with engine.begin() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
