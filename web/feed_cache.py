"""The feed, built once per catalogue state and served from memory in between.

A built feed stays valid while the catalogue's revision (bumped by every write,
archive.revisions) is the same and the next scheduled episode has not gone live. Checking
that costs one primary-key read, so a request for an unchanged feed is answered from
memory; a conditional request then gets 304 from the ETag or Last-Modified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime

from sqlalchemy.orm import Session

from archive import revisions
from archive.catalogue import feed_episodes, next_release, publication_time
from archive.settings import Settings
from feeds.rss import build_feed


@dataclass(frozen=True)
class BuiltFeed:
    revision: int
    valid_until: dt.datetime  # when the next scheduled episode goes live
    body: bytes
    etag: str
    last_modified: dt.datetime

    @property
    def last_modified_header(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """True when the client's copy is this one (ETag first, as HTTP says, then the date)."""
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return self.etag in tags or "*" in tags
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return self.last_modified <= since
        return False


class FeedCache:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._built: BuiltFeed | None = None

    def fresh(self, session: Session, now: dt.datetime | None = None) -> BuiltFeed | None:
        """The cached feed if the catalogue has not changed since it was built, else None."""
        now = now or dt.datetime.now(dt.UTC)
        built = self._built
        if built is not None and now < built.valid_until and built.revision == revisions.current(session)[0]:
            return built
        return None

    def get(self, session: Session, now: dt.datetime | None = None) -> BuiltFeed:
        """The feed as it is at ``now``: from memory when nothing changed, built afresh otherwise."""
        now = now or dt.datetime.now(dt.UTC)
        built = self.fresh(session, now)
        if built is not None:
            return built
        with self._lock:  # one build at a time; the others then find it fresh
            built = self.fresh(session, now)
            if built is None:
                built = self._built = self._build(session, now)
            return built

    def _build(self, session: Session, now: dt.datetime) -> BuiltFeed:
        revision, changed_at = revisions.current(session)
        episodes = feed_episodes(session, now)
        moments = [publication_time(e) for e in episodes] + ([changed_at] if changed_at else [])
        last_modified = max(moments, default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).replace(microsecond=0)
        last_modified = min(last_modified, now.replace(microsecond=0))
        # Built from the catalogue alone: every server process gives the same bytes, so the same ETag.
        body = build_feed(self.settings, episodes, last_build=last_modified)
        valid_until = next_release(session, now) or dt.datetime.max.replace(tzinfo=dt.UTC)
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return BuiltFeed(revision, valid_until, body, etag, last_modified)
