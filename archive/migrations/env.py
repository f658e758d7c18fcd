"""Alembic's entry point, run by archive/migrations/upgrade.py on a connection it already holds.

No alembic.ini: the connection (inside its transaction and lock) arrives through
``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.types import TypeDecorator

from archive.models import Base


def render_item(kind: str, item, _autogen_context):
    """New revisions spell Parole's column types as the plain SQLAlchemy types they store."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Parole runs its migrations through archive.migrations.upgrade, on an open connection.")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite changes a table by copying it
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
