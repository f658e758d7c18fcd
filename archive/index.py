"""The Whoosh search index: derived from the store, rebuilt at will.

Layout: ``index/CURRENT`` names the live generation folder (``index/g-…``). A rebuild
writes a new generation beside the live one and then swaps ``CURRENT`` atomically, so a
reader never sees half an index. Whoosh allows one writer at a time: every write goes
through ``SearchIndex._writer``, which waits for the lock with a bound.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.writing import LockError

from archive.analysis import french_analyzer
from archive.chapters import chapter_at
from archive.models import Episode
from archive.people import speaker_names, speaker_people

WRITER_TIMEOUT = 60.0


class IndexBusyError(Exception):
    """Another process held the index writer for too long."""


def build_schema() -> Schema:
    analyzer = french_analyzer()
    return Schema(
        doc_id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        # Sortable ID fields are also columns: facet counts read them without touching stored fields.
        episode_id=ID(stored=True, sortable=True),
        slug=STORED(),
        date=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        episode_title=TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        speaker=STORED(),
        person_slug=ID(stored=True, sortable=True),
        person_name=STORED(),
        person_role=STORED(),
        organisation=STORED(),
        # Who speaks, searchable in one field: name, role and organisation.
        who=TEXT(analyzer=analyzer),
        organisation_key=ID(sortable=True),
        chapter=TEXT(analyzer=analyzer, stored=True, field_boost=1.5),
        chapter_key=ID(sortable=True),
        text=TEXT(analyzer=analyzer, stored=True, chars=True, spelling=True),
        # Fields of chapter and episode documents only, so that passage queries never touch them.
        chapter_title=TEXT(analyzer=analyzer, stored=True),
        keywords=TEXT(analyzer=analyzer, stored=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        description=TEXT(analyzer=analyzer, stored=True),
        guests=TEXT(analyzer=analyzer, stored=True),
        # Whoosh's sortable float fields crash on write; times are whole milliseconds.
        start_ms=NUMERIC(int, bits=64, stored=True),
        end_ms=STORED(),
    )


def episode_documents(episode: Episode) -> Iterable[dict]:
    """One document for the episode itself, one per utterance."""
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


class SearchIndex:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._local = threading.local()

    # -- generations ---------------------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _set_current(self, name: str) -> None:
        pointer = self.root / f".CURRENT.{os.getpid()}.tmp"
        pointer.write_text(name + "\n")
        os.replace(pointer, self.root / "CURRENT")

    def _new_generation(self) -> tuple[str, Path]:
        name = f"g-{time.time_ns()}-{os.getpid()}"
        path = self.root / name
        path.mkdir(parents=True)
        whoosh_index.create_in(str(path), build_schema())
        return name, path

    def open(self):
        """The live Whoosh index, created empty the first time."""
        name = self._current_name()
        if name is None or not (self.root / name).exists():
            self.root.mkdir(parents=True, exist_ok=True)
            name, _ = self._new_generation()
            self._set_current(name)
        return whoosh_index.open_dir(str(self.root / name))

    def is_current(self) -> bool:
        """False when the index on disk was built with another schema (an older version of Parole)."""
        name = self._current_name()
        if name is None or not (self.root / name).exists():
            return True  # created with the current schema on first use
        return set(whoosh_index.open_dir(str(self.root / name)).schema.names()) == set(build_schema().names())

    # -- reading -------------------------------------------------------------------

    def searcher(self):
        """A searcher for this thread (Whoosh searchers are not safe to share across threads)."""
        name = self._current_name()
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None or local.generation != name:
            if searcher is not None:
                searcher.close()
            local.searcher, local.generation = self.open().searcher(), self._current_name()
        elif not searcher.up_to_date():
            # Not refresh(): in whoosh-reloaded 2.7.5 it keeps merged-away segments.
            searcher.close()
            local.searcher = self.open().searcher()
        return local.searcher

    def document_count(self, kind: str | None = None) -> int:
        from whoosh.query import Term

        searcher = self.open().searcher()
        try:
            if kind is None:
                return searcher.doc_count()
            return len(searcher.search(Term("kind", kind), limit=None))
        finally:
            searcher.close()

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def _writer(self, ix=None):
        ix = ix or self.open()
        try:
            writer = ix.writer(timeout=WRITER_TIMEOUT)
        except LockError as error:
            raise IndexBusyError("L'index de recherche est occupé par une autre écriture ; réessayez.") from error
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        else:
            writer.commit()

    def add_episode(self, episode: Episode) -> None:
        with self._writer() as writer:
            writer.delete_by_term("episode_id", str(episode.id))
            for document in episode_documents(episode):
                writer.add_document(**document)

    def delete_episode(self, episode_id: int) -> None:
        with self._writer() as writer:
            writer.delete_by_term("episode_id", str(episode_id))

    def rebuild(self, episodes: Iterable[Episode]) -> int:
        """Build a fresh generation from the store and swap it in; returns the document count."""
        self.root.mkdir(parents=True, exist_ok=True)
        old = self._current_name()
        name, path = self._new_generation()
        try:
            count = 0
            with self._writer(whoosh_index.open_dir(str(path))) as writer:
                for episode in episodes:
                    for document in episode_documents(episode):
                        writer.add_document(**document)
                        count += 1
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self._set_current(name)
        if old and old != name:
            shutil.rmtree(self.root / old, ignore_errors=True)
        return count
