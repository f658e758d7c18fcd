"""When a broadcast date goes out: the one rule shared by pages, the feed, search and the studio.

Broadcast dates have no hour: an episode goes out at 08:00 Paris time (07:00 UTC) on its date.
An episode published "now" therefore takes the latest date already out, never today's date
before 07:00 UTC, which would hide it until then.
"""

from __future__ import annotations

import datetime as dt

RELEASE_HOUR_UTC = 7


def release_time(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(RELEASE_HOUR_UTC, 0), tzinfo=dt.UTC)


def latest_live_date(now: dt.datetime | None = None) -> dt.date:
    """The latest broadcast date already released at ``now`` (default: this moment)."""
    now = now or dt.datetime.now(dt.UTC)
    return (now.astimezone(dt.UTC) - dt.timedelta(hours=RELEASE_HOUR_UTC)).date()
