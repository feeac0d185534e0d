"""``lstmgen db``: database maintenance (Alembic migrations shipped in the package).

Thin: builds the store without its automatic upgrade and runs the migration explicitly.
"""

from __future__ import annotations

import click

from shared_model.cli.output import emit_json, json_option, settings


@click.group("db")
def db() -> None:
    """Database maintenance (LSTMGEN_DB_URL, default a SQLite file in LSTMGEN_HOME)."""


@db.command("upgrade")
@json_option
def upgrade(as_json: bool) -> None:
    """Apply the shipped migrations up to the newest schema (safe to run twice)."""
    from shared_model.storage import Store

    store = Store.from_settings(settings(), upgrade=False)
    try:
        result = store.upgrade()
    finally:
        store.close()
    if as_json:
        emit_json({"url": store.url, "before": result.before, "after": result.after,
                   "changed": result.changed})
    elif result.changed:
        click.echo(f"{store.url}: upgraded {result.before or 'empty'} -> {result.after}")
    else:
        click.echo(f"{store.url}: already at {result.after}")
