"""Archives made before Parole used Alembic: their tables exist, but no ``alembic_version`` says which.

Such an archive is brought up to the first revision (missing tables created, missing
columns added), then stamped with it, so later revisions apply to it like to any other.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection

from archive.migrations import scripts


def is_pre_alembic(connection: Connection) -> bool:
    tables = set(sa.inspect(connection).get_table_names())
    return "alembic_version" not in tables and bool(tables & set(_first_revision().TABLES))


def bring_to_first_revision(connection: Connection) -> None:
    """Add what the first revision has and this database lacks; never drop or change anything."""
    first = _first_revision()
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    context = MigrationContext.configure(connection)
    with Operations.context(context) as operations:
        for table, items in first.TABLES.items():
            if table not in existing:
                first.create_table(table)
                continue
            present = {column["name"] for column in inspector.get_columns(table)}
            for column in items():
                if isinstance(column, sa.Column) and column.name not in present:
                    # Rows already there have no value for it: the column is added nullable, as SQLite requires.
                    default = column.server_default.arg if column.server_default is not None else None
                    operations.add_column(table, sa.Column(column.name, column.type, nullable=True,
                                                           server_default=default))
            indexes = {index["name"] for index in inspector.get_indexes(table)}
            for name, columns, unique in first.INDEXES.get(table, []):
                if name not in indexes:
                    operations.create_index(name, table, columns, unique=unique)


def _first_revision():
    return scripts().get_revision(scripts().get_base()).module
