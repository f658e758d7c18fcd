"""Reading the catalogue for pages, the API and the feed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive.models import Episode, EpisodePerson, EpisodeSpeaker, Person, Utterance


def _with_people():
    return selectinload(Episode.people).selectinload(EpisodePerson.person)


def _with_speakers():
    return selectinload(Episode.speakers).selectinload(EpisodeSpeaker.person)


def list_episodes(session: Session) -> list[Episode]:
    """Newest first (by broadcast date, then by arrival)."""
    return list(session.scalars(
        select(Episode).options(_with_people(), selectinload(Episode.chapters))
        .order_by(Episode.date.desc(), Episode.id.desc())
    ))


def episode_by_slug(session: Session, slug: str, with_transcript: bool = True) -> Episode | None:
    options = [_with_people(), _with_speakers(), selectinload(Episode.chapters)]
    if with_transcript:
        options.append(selectinload(Episode.utterances))
    return session.scalar(select(Episode).where(Episode.slug == slug).options(*options))


def episodes_by_ids(session: Session, ids: list[int]) -> dict[int, Episode]:
    if not ids:
        return {}
    rows = session.scalars(select(Episode).where(Episode.id.in_(ids)).options(_with_people()))
    return {episode.id: episode for episode in rows}


@dataclass(frozen=True)
class PersonSummary:
    person: Person
    episode_count: int


def list_people(session: Session) -> list[PersonSummary]:
    """Everyone who took part in an episode, by name, with how many episodes."""
    counts = dict(session.execute(
        select(EpisodePerson.person_id, func.count(func.distinct(EpisodePerson.episode_id)))
        .group_by(EpisodePerson.person_id)).all())
    people = session.scalars(select(Person).order_by(Person.name))
    return [PersonSummary(person, counts.get(person.id, 0)) for person in people]


def person_by_slug(session: Session, slug: str) -> Person | None:
    return session.scalar(select(Person).where(Person.slug == slug).options(
        selectinload(Person.appearances).selectinload(EpisodePerson.episode)))


def person_passages(session: Session, person: Person) -> list[tuple[Episode, list[Utterance]]]:
    """Every utterance spoken in a voice linked to this person, grouped by episode (newest first)."""
    voices = session.execute(select(EpisodeSpeaker.episode_id, EpisodeSpeaker.label)
                             .where(EpisodeSpeaker.person_id == person.id)).all()
    if not voices:
        return []
    condition = or_(*[and_(Utterance.episode_id == episode_id, Utterance.speaker == label)
                      for episode_id, label in voices])
    utterances = session.scalars(select(Utterance).where(condition).order_by(Utterance.episode_id,
                                                                             Utterance.position)).all()
    episodes = episodes_by_ids(session, sorted({u.episode_id for u in utterances}))
    grouped: dict[int, list[Utterance]] = {}
    for utterance in utterances:
        grouped.setdefault(utterance.episode_id, []).append(utterance)
    ordered = sorted(grouped, key=lambda eid: (episodes[eid].date, eid), reverse=True)
    return [(episodes[eid], grouped[eid]) for eid in ordered]
