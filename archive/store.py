"""Writing to the catalogue: an episode goes in whole, with its media and index, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from archive import chapters as chapter_edits
from archive import revisions, soundbites
from archive.db import Database
from archive.engines import open_search_index
from archive.episode_changes import EpisodeChanges
from archive.media import file_sha256, media_path, remove_leftovers, remove_media, store_media
from archive.models import Episode, EpisodePerson, EpisodeSpeaker, Person, Utterance
from archive.people import find_or_create_person, name_speaker, recognise_voices
from archive.records import Chapter as ChapterRecord
from archive.records import EpisodeMeta, SourceAudio, Voice
from archive.records import Utterance as UtteranceRecord
from archive.settings import Settings
from archive.slugs import slugify, unique_slug
from archive.write_journal import JournalEntry, WriteJournal


class EditConflict(Exception):
    """Someone else saved the same thing first; the message says so in French."""


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
        self.index = open_search_index(settings)
        self.journal = WriteJournal(settings.data_dir / "journal")
        if not self.index.is_current() or (not self.index.exists() and self._has_episodes()):
            self.reindex()  # an index from an older version, or a newly chosen engine: the store rebuilds it
        for entry in self.journal.interrupted():
            self._settle(entry)  # a process died in the middle of a write: put the index and media back in step

    def close(self) -> None:
        self.db.dispose()

    # -- reading -------------------------------------------------------------------

    def _has_episodes(self) -> bool:
        with self.db.session() as session:
            return session.scalar(select(Episode.id).limit(1)) is not None

    def find_by_guid(self, guid: str) -> SavedEpisode | None:
        with self.db.session() as session:
            episode = session.scalar(select(Episode).where(Episode.guid == guid))
            return SavedEpisode(episode.id, episode.slug, False) if episode else None

    def find_by_audio(self, sha256: str) -> SavedEpisode | None:
        with self.db.session() as session:
            episode = session.scalar(select(Episode).where(Episode.audio_sha256 == sha256))
            return SavedEpisode(episode.id, episode.slug, False) if episode else None

    def lacks_podcast_audio(self, episode_id: int) -> bool:
        """No MP3 for podcast apps yet (a new episode, or one whose MP3 was cut short by a crash)."""
        with self.db.session() as session:
            return session.scalar(select(Episode.podcast_sha256).where(Episode.id == episode_id)) is None

    def load_episode(self, session, episode_id: int) -> Episode:
        return session.scalar(
            select(Episode).where(Episode.id == episode_id).options(
                selectinload(Episode.utterances), selectinload(Episode.people).selectinload(EpisodePerson.person),
                selectinload(Episode.speakers).selectinload(EpisodeSpeaker.person), selectinload(Episode.chapters),
            )
        )

    def _existing_episode(self, session, episode_id: int) -> Episode:
        """The episode an edit is about; LookupError (French message) when there is none."""
        episode = self.load_episode(session, episode_id)
        if episode is None:
            raise LookupError("Épisode introuvable.")
        return episode

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def _journaled(self) -> Iterator[JournalEntry]:
        """A write whose index documents and new media files are noted in the journal (see write_journal.py).

        If the write fails, they are put back in step with the store at once; if the process
        dies, the next one to open the archive does it.
        """
        with self.journal.entry() as entry:
            try:
                yield entry
            except BaseException:
                with suppress(Exception):  # the store itself may be what failed: the entry then stays for later
                    self._settle(entry)
                raise

    def _reindex_episode(self, entry: JournalEntry, episode: Episode) -> None:
        entry.note(episode_ids=(episode.id,))
        self.index.add_episode(episode)

    def _settle(self, entry: JournalEntry) -> None:
        """After an unfinished write: unused new media removed, then each noted episode indexed as the store has it.

        Media first: it needs only the store, so a busy or broken index cannot leave a stray file behind.
        """
        with self.db.session() as session:
            for name in sorted(entry.media):
                path = Path(name)
                used = session.scalar(select(Episode.id).where(
                    (Episode.audio_sha256 == path.stem) | (Episode.podcast_sha256 == path.stem)).limit(1))
                if used is None:
                    remove_media(path)
                remove_leftovers(path)
            for episode_id in sorted(entry.episode_ids):
                episode = self.load_episode(session, episode_id)
                if episode is None:
                    self.index.delete_episode(episode_id)
                else:
                    self.index.add_episode(episode)
        entry.path.unlink(missing_ok=True)

    def save_episode(
        self, meta: EpisodeMeta, audio: SourceAudio, utterances: list[UtteranceRecord], voices: list[Voice] = (),
        chapters: list[ChapterRecord] = (),
    ) -> SavedEpisode:
        """Store audio, rows and index documents together; undo all of it on any failure."""
        existing = self.find_by_audio(audio.sha256)
        if existing:
            return existing
        with self._journaled() as entry:
            entry.note(media=(media_path(self.settings.media_dir, audio.sha256, audio.extension),))
            media_file, _created = store_media(self.settings.media_dir, audio.path, audio.sha256, audio.extension)
            with self.db.sessions.begin() as session:
                taken = lambda slug: session.scalar(select(Episode.id).where(Episode.slug == slug)) is not None  # noqa: E731
                episode = Episode(
                    slug=unique_slug(slugify(meta.title), taken), title=meta.title, description=meta.description,
                    date=meta.date, duration=audio.duration, audio_sha256=audio.sha256,
                    audio_ext=audio.extension, audio_mime=audio.mime_type, audio_size=media_file.stat().st_size,
                    status="draft" if meta.draft else "published", episode_number=meta.episode_number,
                    season=meta.season, **({"guid": meta.guid} if meta.guid else {}),
                )
                session.add(episode)
                for position, utterance in enumerate(utterances):
                    episode.utterances.append(Utterance(
                        position=position, start=utterance.start, end=utterance.end, speaker=utterance.speaker,
                        text=utterance.text,
                        words=[[w.text, round(w.start, 3), round(w.end, 3), round(w.probability, 3)]
                               for w in utterance.words],
                    ))
                for position, guest in enumerate(meta.guests):
                    person = find_or_create_person(session, guest.name, guest.role, guest.organisation)
                    episode.people.append(EpisodePerson(person=person, role="guest", position=position))
                for voice in voices:
                    episode.speakers.append(EpisodeSpeaker(
                        label=voice.label, talk_time=round(voice.talk_time, 2),
                        embedding=[round(float(x), 6) for x in voice.embedding]))
                chapter_edits.replace(episode, chapters)
                soundbites.store(episode, soundbites.propose(episode))
                session.flush()
                recognise_voices(session, episode)
                revisions.bump(session)
                session.flush()
                # Indexed before the commit: should the commit fail, the journal entry takes the documents out.
                self._reindex_episode(entry, episode)
                saved = SavedEpisode(episode.id, episode.slug, True)
        return saved

    def name_speaker(self, episode_id: int, label: str, name: str, role: str = "", organisation: str = "",
                     host: bool = False) -> str:
        """Link a voice to a person (creating them if new), then refresh the episode's index documents."""
        with self._journaled() as entry, self.db.sessions.begin() as session:
            episode = self._existing_episode(session, episode_id)
            person = name_speaker(session, episode, label, name, role, organisation, host)
            revisions.bump(session)
            session.flush()
            self._reindex_episode(entry, episode)
            return person.slug

    def edit_chapters(self, episode_id: int, edit) -> Episode:
        """Apply ``edit(episode)`` (see archive.chapters) in one transaction, then refresh the index."""
        with self._journaled() as entry, self.db.sessions.begin() as session:
            episode = self._existing_episode(session, episode_id)
            edit(episode)
            revisions.bump(session)
            session.flush()
            session.refresh(episode, ["chapters"])
            self._reindex_episode(entry, episode)
            return episode

    def update_person(self, slug: str, changes: dict[str, str]) -> Person | None:
        """Edit a person's card; their passages are re-indexed when the role shown beside them changes."""
        with self._journaled() as entry, self.db.sessions.begin() as session:
            person = session.scalar(select(Person).where(Person.slug == slug))
            if person is None:
                return None
            for field, value in changes.items():
                setattr(person, field, value)
            revisions.bump(session)
            session.flush()
            if changes:
                episode_ids = {voice.episode_id for voice in person.voices}
                for episode_id in sorted(episode_ids):
                    self._reindex_episode(entry, self.load_episode(session, episode_id))
            return person

    def update_episode(self, episode_id: int, changes: EpisodeChanges) -> Episode:
        """Edit what the feed and pages say of an episode (title, date, status, numbers, soundbite).

        The guid never changes, so apps keep the episode they already have. Raises
        ValueError with a French message for an impossible change.
        """
        with self._journaled() as entry, self.db.sessions.begin() as session:
            episode = self._existing_episode(session, episode_id)
            changes.apply_to(episode)
            revisions.bump(session)
            session.flush()
            self._reindex_episode(entry, episode)
            return episode

    def attach_podcast_audio(self, episode_id: int, mp3: Path) -> None:
        """Keep the MP3 made for podcast apps (see ingest/podcast_audio.py); the feed then offers it."""
        sha256 = file_sha256(mp3)
        with self._journaled() as entry:
            entry.note(media=(media_path(self.settings.media_dir, sha256, "mp3"),))
            stored, _created = store_media(self.settings.media_dir, mp3, sha256, "mp3")
            with self.db.sessions.begin() as session:
                episode = session.get(Episode, episode_id)
                if episode is None:
                    raise LookupError("Épisode introuvable.")
                episode.podcast_sha256, episode.podcast_size = sha256, stored.stat().st_size
                revisions.bump(session)

    def correct_utterance(self, episode_id: int, utterance_id: int, text: str, version: int) -> int:
        """A producer's correction of what was said; returns the passage's new version.

        The machine's text is kept the first time. The save is refused (EditConflict) when
        the passage changed since the producer loaded it, so nobody's correction is lost.
        """
        text = " ".join(text.split())
        if not text:
            raise ValueError("Le texte d'un passage ne peut pas être vide.")
        with self._journaled() as entry, self.db.sessions.begin() as session:
            changed = session.execute(
                update(Utterance)
                .where(Utterance.id == utterance_id, Utterance.episode_id == episode_id, Utterance.version == version)
                .values(text=text, version=Utterance.version + 1,
                        original_text=func.coalesce(Utterance.original_text, Utterance.text))).rowcount
            if not changed:
                exists = session.scalar(select(Utterance.id).where(Utterance.id == utterance_id,
                                                                   Utterance.episode_id == episode_id))
                if exists is None:
                    raise LookupError("Passage introuvable.")
                raise EditConflict("Ce passage a été modifié entre-temps par quelqu'un d'autre : "
                                   "rechargez la page pour voir sa version, puis corrigez-la.")
            revisions.bump(session)
            session.flush()
            self._reindex_episode(entry, self.load_episode(session, episode_id))
            return version + 1

    def merge_speakers(self, episode_id: int, label: str, into: str) -> None:
        """Two labels found for one voice: every passage of ``label`` becomes ``into``'s."""
        if label == into:
            raise ValueError("Choisissez deux locuteurs différents.")
        with self._journaled() as entry, self.db.sessions.begin() as session:
            episode = self._existing_episode(session, episode_id)
            labels = {voice.label for voice in episode.speakers} | {u.speaker for u in episode.utterances}
            if label not in labels or into not in labels:
                raise ValueError("Locuteur inconnu dans cet épisode.")
            for utterance in episode.utterances:
                if utterance.speaker == label:
                    utterance.speaker = into
            merged = next((voice for voice in episode.speakers if voice.label == label), None)
            kept = next((voice for voice in episode.speakers if voice.label == into), None)
            if merged is not None:
                if kept is not None:
                    kept.talk_time = round(kept.talk_time + merged.talk_time, 2)
                episode.speakers.remove(merged)
            revisions.bump(session)
            session.flush()
            self._reindex_episode(entry, episode)

    def reindex(self) -> int:
        """Rebuild the search index from the store; returns the number of documents."""
        with self.db.session() as session:
            ids = session.scalars(select(Episode.id).order_by(Episode.id)).all()
            return self.index.rebuild(self.load_episode(session, episode_id) for episode_id in ids)
