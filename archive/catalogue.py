"""Reading the catalogue for pages, the API and the feed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import Episode, EpisodePerson


def _with_people():
    return selectinload(Episode.people).selectinload(EpisodePerson.person)


def list_episodes(session: Session) -> list[Episode]:
    """Newest first (by broadcast date, then by arrival)."""
    return list(session.scalars(
        select(Episode).options(_with_people()).order_by(Episode.date.desc(), Episode.id.desc())
    ))


def episode_by_slug(session: Session, slug: str, with_transcript: bool = True) -> Episode | None:
    options = [_with_people()]
    if with_transcript:
        options.append(selectinload(Episode.utterances))
    return session.scalar(select(Episode).where(Episode.slug == slug).options(*options))


def episodes_by_ids(session: Session, ids: list[int]) -> dict[int, Episode]:
    if not ids:
        return {}
    rows = session.scalars(select(Episode).where(Episode.id.in_(ids)).options(_with_people()))
    return {episode.id: episode for episode in rows}
