"""Alembic: migrations shipped in the package agree with the ORM; upgrade is idempotent."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from storage_support import SECRET, make_record

from shared_model.errors import StorageError
from shared_model.storage import Store
from shared_model.storage.migrate import head_revision
from shared_model.storage.models import Base


def test_autogenerate_finds_no_difference_between_models_and_migrations(db_url):
    Store(db_url, SECRET).close()  # self-upgrade on first use
    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"model", "generation", "rating", "comparison", "alembic_version"} <= tables


def test_upgrade_is_idempotent_and_reports_revisions(db_url):
    store = Store(db_url, SECRET, upgrade=False)
    first = store.upgrade()
    second = store.upgrade()
    store.close()
    assert first.before is None and first.after == head_revision() and first.changed
    assert second.before == second.after == head_revision() and not second.changed


def test_store_without_upgrade_on_empty_database_fails_with_one_line(db_url):
    store = Store(db_url, SECRET, upgrade=False)
    with pytest.raises(StorageError) as info:
        store.record_generation(make_record())
    store.close()
    assert "\n" not in str(info.value) and "record a generation" in str(info.value)


def test_schema_head_constant_matches_the_shipped_scripts():
    from shared_model.storage.migrate import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD  # bump SCHEMA_HEAD with every new revision
