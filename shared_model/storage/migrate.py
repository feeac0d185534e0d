"""Alembic to head, in code: the revision scripts shipped in ``migrations/``, one lock.

Owns running migrations for ``lstmgen db upgrade`` and the store's self-upgrade on first
use. Many processes may open a fresh database at once (bot shards, benchmark workers), so
the check and the upgrade happen inside one write transaction that also holds a lock
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock; both run DDL
transactionally, so a killed upgrade leaves nothing behind). Imports SQLAlchemy, Alembic and
``storage.db``; never torch, training or exporters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from shared_model.storage.db import writer

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest shipped revision. Opening a store already at it needs one SELECT and no Alembic
# import (~0.3 s of every CLI start); a test keeps this equal to the scripts' head.
SCHEMA_HEAD = "0001"
_PG_LOCK_KEY = 0x6C73746D67656E  # "lstmgen": one advisory lock for schema changes


@dataclass(frozen=True)
class UpgradeResult:
    """Revisions before and after an upgrade (``None``: an empty database)."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    """An Alembic Config pointing at the shipped revision scripts (no .ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest revision shipped with this version of lstmgen."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """True when the database is at ``SCHEMA_HEAD``, by one plain query (no Alembic)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no alembic_version table yet (a new database), or unreachable
        return False
    return rows == [SCHEMA_HEAD]


def upgrade(engine: Engine, revision: str = "head") -> UpgradeResult:
    """Migrate the database to ``revision`` unless it is there already; safe to race.

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be reached or written (the caller
            turns it into a StorageError).
    """
    if revision == "head" and is_at_head(engine):  # the common case: nothing to import or do
        return UpgradeResult(SCHEMA_HEAD, SCHEMA_HEAD)
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    target = head_revision() if revision == "head" else revision
    before = current_revision(engine)
    if before == target:  # fast path: no write lock for the common case
        return UpgradeResult(before, before)
    with writer(engine).begin() as conn:
        _lock(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        if before != target:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return UpgradeResult(before, after)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # SQLite: BEGIN IMMEDIATE (writer engine) already holds the database's write lock
