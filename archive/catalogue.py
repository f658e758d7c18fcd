"""Reading the catalogue for pages, the API and the feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive.analysis import fold
from archive.models import Chapter, Episode, EpisodePerson, EpisodeSpeaker, Person, Utterance
from archive.release import latest_live_date, release_time


def _with_people():
    return selectinload(Episode.people).selectinload(EpisodePerson.person)


def _with_speakers():
    return selectinload(Episode.speakers).selectinload(EpisodeSpeaker.person)


def publication_time(episode: Episode | FeedEpisode) -> dt.datetime:
    return release_time(episode.date)


def _live(now: dt.datetime):
    """Published, and its date has come: what listeners and the feed may see."""
    return and_(Episode.status == "published", Episode.date <= latest_live_date(now))


def live_episodes(session: Session, now: dt.datetime) -> list[Episode]:
    """The episodes listeners may see at ``now``, newest first (drafts and scheduled ones left out)."""
    query = select(Episode).where(_live(now)).options(_with_people(), selectinload(Episode.chapters))
    return list(session.scalars(query.order_by(Episode.date.desc(), Episode.id.desc())))


@dataclass(frozen=True)
class Credit:
    """A person as the feed names them: ``credit`` is their part in the episode (guest or host)."""

    name: str
    slug: str
    role: str
    credit: str


@dataclass(frozen=True)
class FeedEpisode:
    """What the feed says of an episode, read as plain rows: a thousand of them load in milliseconds."""

    id: int
    slug: str
    guid: str
    title: str
    description: str
    date: dt.date
    duration: float
    audio_ext: str
    audio_mime: str
    audio_size: int
    episode_number: int | None
    season: int | None
    soundbite_start: float | None
    soundbite_duration: float | None
    soundbite_title: str | None
    soundbite_picked: bool
    podcast_sha256: str | None
    podcast_size: int | None
    has_chapters: bool
    people: tuple[Credit, ...]


_FEED_COLUMNS = ("id", "slug", "guid", "title", "description", "date", "duration", "audio_ext", "audio_mime",
                 "audio_size", "episode_number", "season", "soundbite_start", "soundbite_duration",
                 "soundbite_title", "soundbite_picked", "podcast_sha256", "podcast_size")


def feed_episodes(session: Session, now: dt.datetime) -> list[FeedEpisode]:
    """The live episodes for the feed, newest first, with their people and whether they have chapters."""
    rows = session.execute(select(*(getattr(Episode, name) for name in _FEED_COLUMNS)).where(_live(now))
                           .order_by(Episode.date.desc(), Episode.id.desc())).all()
    ids = [row.id for row in rows]
    people: dict[int, list[Credit]] = {}
    chaptered: set[int] = set()
    for chunk in (ids[start:start + 500] for start in range(0, len(ids), 500)):
        credits = session.execute(
            select(EpisodePerson.episode_id, Person.name, Person.slug, Person.role, EpisodePerson.role)
            .join(Person, Person.id == EpisodePerson.person_id).where(EpisodePerson.episode_id.in_(chunk))
            .order_by(EpisodePerson.episode_id, EpisodePerson.position))
        for episode_id, name, slug, role, credit in credits:
            people.setdefault(episode_id, []).append(Credit(name, slug, role, credit))
        chaptered.update(session.scalars(select(Chapter.episode_id).where(Chapter.episode_id.in_(chunk)).distinct()))
    return [FeedEpisode(*row, has_chapters=row.id in chaptered, people=tuple(people.get(row.id, ())))
            for row in rows]


def hidden_episode_ids(session: Session, now: dt.datetime) -> frozenset[int]:
    """Drafts and episodes not yet released: public search must not show them."""
    return frozenset(session.scalars(select(Episode.id).where(~_live(now))))


def next_release(session: Session, now: dt.datetime) -> dt.datetime | None:
    """When the next scheduled episode goes live (None if none is scheduled)."""
    date = session.scalar(select(func.min(Episode.date)).where(Episode.status == "published",
                                                               Episode.date > latest_live_date(now)))
    return release_time(date) if date else None


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
    """Everyone who took part in an episode, in French alphabetical order, with how many episodes."""
    counts = dict(session.execute(
        select(EpisodePerson.person_id, func.count(func.distinct(EpisodePerson.episode_id)))
        .group_by(EpisodePerson.person_id)).all())
    # Sorted here, not by the database: SQLite and PostgreSQL collate accents differently ("Émilie" before "Zoé").
    people = sorted(session.scalars(select(Person)), key=lambda person: (fold(person.name), person.name, person.id))
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
