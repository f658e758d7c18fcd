"""Bring a database to the newest revision when Parole opens it, once, whoever opens it first.

Several processes (the site, workers, a command) may open a new or older database at
the same moment. The first takes a lock and migrates inside one transaction; the others
wait for the lock, then find nothing left to do. PostgreSQL: a transaction-level
advisory lock. SQLite: ``BEGIN IMMEDIATE``, which admits one writer at a time.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from archive.migrations import FOLDER, alembic_config, first_revision, head_revision
from archive.migrations.legacy import bring_to_first_revision, is_pre_alembic

# Any fixed number works, as long as nothing else on the server uses it for another purpose ("parole" in ASCII).
ADVISORY_LOCK_KEY = 0x7061726F6C65


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine, folder: Path = FOLDER) -> None:
    """Migrate if needed; a database already at the newest revision costs one small query."""
    with engine.connect() as connection:
        if current_revision(connection) == head_revision(folder):
            return
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A copied table must not cascade deletes to its children; the switch only works outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            _lock(connection)
            _migrate(connection, folder)
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _lock(connection: Connection) -> None:
    """Held until the migration's transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _migrate(connection: Connection, folder: Path) -> None:
    config = alembic_config(connection, folder)
    if current_revision(connection) is None and is_pre_alembic(connection):
        bring_to_first_revision(connection)
        command.stamp(config, first_revision(folder))
    command.upgrade(config, "head")
