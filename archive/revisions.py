"""The catalogue's revision: a counter every write bumps, so readers can tell cheaply that nothing changed.

The feed is built once per revision and served from memory in between (feeds/cache.py);
its ETag and Last-Modified come from here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.models import CatalogueRevision


def bump(session: Session) -> None:
    """Count one more change, inside the caller's transaction (so a rolled-back write counts nothing).

    One statement that adds 1 in the database: two processes writing at once (the site and
    a worker on PostgreSQL) both count, where reading then writing the number would lose one.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = dt.datetime.now(dt.UTC)
    session.execute(insert(CatalogueRevision).values(id=1, number=1, changed_at=now).on_conflict_do_update(
        index_elements=[CatalogueRevision.id], set_={"number": CatalogueRevision.number + 1, "changed_at": now}))


def current(session: Session) -> tuple[int, dt.datetime | None]:
    """(number, when it last changed); (0, None) for an archive never written to."""
    row = session.execute(select(CatalogueRevision.number, CatalogueRevision.changed_at)
                          .where(CatalogueRevision.id == 1)).first()
    if row is None:
        return 0, None
    return row.number, row.changed_at
