"""Database engine and sessions: SQLite in the data folder by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from archive.models import Base
from archive.settings import Settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the site read while an ingest writes; foreign keys keep cascades honest.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def add_missing_columns(engine: Engine) -> None:
    """Columns added by a newer Parole, appended to an older database's tables (all nullable or defaulted).

    create_all makes missing tables but never changes existing ones; an archive made by
    an earlier version keeps working without being rebuilt.
    """
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            existing = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in existing:
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(engine.dialect)}"
                if column.server_default is not None:
                    ddl += f" DEFAULT '{column.server_default.arg}'"
                connection.execute(text(ddl))


class Database:
    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (or a write one: the caller commits)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
