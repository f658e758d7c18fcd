"""The catalogue's revision: a counter every write bumps, so readers can tell cheaply that nothing changed.

The feed is built once per revision and served from memory in between (feeds/cache.py);
its ETag and Last-Modified come from here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import CatalogueRevision


def bump(session: Session) -> None:
    """Count one more change, inside the caller's transaction (so a rolled-back write counts nothing)."""
    row = session.get(CatalogueRevision, 1)
    if row is None:
        session.add(CatalogueRevision(id=1, number=1, changed_at=dt.datetime.now(dt.UTC)))
    else:
        row.number += 1
        row.changed_at = dt.datetime.now(dt.UTC)


def current(session: Session) -> tuple[int, dt.datetime | None]:
    """(number, when it last changed); (0, None) for an archive never written to."""
    row = session.execute(select(CatalogueRevision.number, CatalogueRevision.changed_at)
                          .where(CatalogueRevision.id == 1)).first()
    if row is None:
        return 0, None
    changed_at = row.changed_at
    if changed_at is not None and changed_at.tzinfo is None:  # SQLite gives naive UTC back
        changed_at = changed_at.replace(tzinfo=dt.UTC)
    return row.number, changed_at
