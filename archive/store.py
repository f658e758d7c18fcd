"""Writing to the catalogue: an episode goes in whole, with its media and index, or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.db import Database
from archive.index import SearchIndex
from archive.media import remove_media, store_media
from archive.models import Episode, EpisodePerson, Person, Utterance
from archive.records import EpisodeMeta, SourceAudio
from archive.records import Utterance as UtteranceRecord
from archive.settings import Settings
from archive.slugs import slugify, unique_slug


@dataclass(frozen=True)
class SavedEpisode:
    id: int
    slug: str
    created: bool  # False when the same audio was already in the archive


class Archive:
    """The catalogue (SQL), the media folder and the search index, kept in step."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.index = SearchIndex(settings.index_dir)

    def close(self) -> None:
        self.db.dispose()

    # -- reading -------------------------------------------------------------------

    def find_by_audio(self, sha256: str) -> SavedEpisode | None:
        with self.db.session() as session:
            episode = session.scalar(select(Episode).where(Episode.audio_sha256 == sha256))
            return SavedEpisode(episode.id, episode.slug, False) if episode else None

    def load_episode(self, session, episode_id: int) -> Episode:
        return session.scalar(
            select(Episode).where(Episode.id == episode_id).options(
                selectinload(Episode.utterances), selectinload(Episode.people).selectinload(EpisodePerson.person)
            )
        )

    # -- writing -------------------------------------------------------------------

    def _person(self, session, name: str, role: str) -> Person:
        slug = slugify(name)
        person = session.scalar(select(Person).where(Person.slug == slug))
        if person is None:
            person = Person(slug=slug, name=name, role=role)
            session.add(person)
        elif role and not person.role:
            person.role = role
        return person

    def save_episode(
        self, meta: EpisodeMeta, audio: SourceAudio, utterances: list[UtteranceRecord]
    ) -> SavedEpisode:
        """Store audio, rows and index documents together; undo all of it on any failure."""
        existing = self.find_by_audio(audio.sha256)
        if existing:
            return existing
        media_file, media_created = store_media(self.settings.media_dir, audio.path, audio.sha256, audio.extension)
        indexed_id: int | None = None
        try:
            with self.db.sessions.begin() as session:
                taken = lambda slug: session.scalar(select(Episode.id).where(Episode.slug == slug)) is not None  # noqa: E731
                episode = Episode(
                    slug=unique_slug(slugify(meta.title), taken), title=meta.title, description=meta.description,
                    date=meta.date, duration=audio.duration, audio_sha256=audio.sha256,
                    audio_ext=audio.extension, audio_mime=audio.mime_type, audio_size=media_file.stat().st_size,
                )
                for position, utterance in enumerate(utterances):
                    episode.utterances.append(Utterance(
                        position=position, start=utterance.start, end=utterance.end, speaker=utterance.speaker,
                        text=utterance.text,
                        words=[[w.text, round(w.start, 3), round(w.end, 3), round(w.probability, 3)]
                               for w in utterance.words],
                    ))
                for position, guest in enumerate(meta.guests):
                    episode.people.append(EpisodePerson(
                        person=self._person(session, guest.name, guest.role), role="guest", position=position))
                session.add(episode)
                session.flush()
                # Index inside the transaction: if indexing fails, the rows roll back too.
                self.index.add_episode(episode)
                indexed_id = episode.id
                saved = SavedEpisode(episode.id, episode.slug, True)
        except BaseException:
            if indexed_id is not None:
                self.index.delete_episode(indexed_id)
            if media_created:
                remove_media(media_file)
            raise
        return saved

    def reindex(self) -> int:
        """Rebuild the search index from the store; returns the number of documents."""
        with self.db.session() as session:
            ids = session.scalars(select(Episode.id).order_by(Episode.id)).all()
            return self.index.rebuild(self.load_episode(session, episode_id) for episode_id in ids)
