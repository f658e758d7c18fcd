"""What every search engine shares: the documents made from an episode, and the writer's bound.

An episode gives one document for itself, one per chapter and one per utterance; the
field names are the same in both engines, so search code reads them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.chapters import chapter_at
from archive.models import Chapter, Episode, Utterance
from archive.people import speaker_names, speaker_people

# How long a write waits for another process's writer before giving up.
WRITER_TIMEOUT = 60.0


class IndexBusyError(Exception):
    """Another process held the index writer for too long."""


def episode_documents(episode: Episode) -> Iterable[dict]:
    """One document for the episode itself, one per chapter, one per utterance."""
    common = {"episode_id": str(episode.id), "slug": episode.slug, "date": episode.date.isoformat(),
              "year": str(episode.date.year), "episode_title": episode.title}
    guests = " ; ".join(f"{link.person.name} {link.person.role}".strip() for link in episode.people)
    yield {**common, "doc_id": f"e{episode.id}", "kind": "episode", "title": episode.title,
           "description": episode.description or "",
           "guests": guests, "start_ms": 0, "end_ms": int(episode.duration * 1000)}
    for chapter in episode.chapters:
        yield {**common, "doc_id": f"c{chapter.id}", "kind": "chapter", "chapter_title": chapter.title,
               "keywords": " ".join(chapter.keywords), "start_ms": int(round(chapter.start * 1000)),
               "end_ms": int(round(chapter.end * 1000))}
    names, people = speaker_names(episode), speaker_people(episode)
    for utterance in episode.utterances:
        person = people.get(utterance.speaker or "")
        chapter = chapter_at(episode.chapters, utterance.start)
        yield {**common, "doc_id": f"u{utterance.id}", "kind": "utterance", "text": utterance.text,
               "chapter": chapter.title if chapter else "",
               "speaker": names.get(utterance.speaker or "", ""),
               "person_slug": person.slug if person else "", "person_name": person.name if person else "",
               "person_role": person.role if person else "", "organisation": person.organisation if person else "",
               "organisation_key": person.organisation if person else "",
               "who": f"{person.name} {person.role} {person.organisation}" if person else "",
               "chapter_key": chapter.title if chapter else "",
               "start_ms": int(round(utterance.start * 1000)), "end_ms": int(round(utterance.end * 1000))}


def document_keys(session: Session) -> list[tuple[str, str]]:
    """(doc_id, episode_id) of every document ``episode_documents`` makes from the store, read without loading rows.

    ``parole verify`` compares them with the index's own keys; the two must change together.
    """
    keys = [(f"e{episode_id}", str(episode_id)) for episode_id in session.scalars(select(Episode.id))]
    keys += [(f"c{row.id}", str(row.episode_id)) for row in session.execute(select(Chapter.id, Chapter.episode_id))]
    keys += [(f"u{row.id}", str(row.episode_id)) for row in session.execute(select(Utterance.id, Utterance.episode_id))]
    return keys
