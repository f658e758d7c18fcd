"""The Whoosh search index (the default engine): derived from the store, rebuilt at will.

Whoosh allows one writer at a time: every write goes through ``WhooshIndex._writer``,
which waits for the lock with a bound. A rebuild is a new generation swapped in at once
(archive.generations). Searching is in archive.whoosh_search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.writing import LockError

from archive import indexing
from archive.analysis import french_analyzer
from archive.generations import Generations
from archive.indexing import IndexBusyError, episode_documents
from archive.models import Episode


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
        text=TEXT(analyzer=analyzer, stored=True, spelling=True),
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


class WhooshIndex:
    name = "whoosh"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.generations = Generations(self.root)
        self._local = threading.local()

    def exists(self) -> bool:
        return self.generations.current() is not None

    def open(self):
        """The live Whoosh index, created empty the first time."""
        path = self.generations.current()
        if path is None:
            path = self._new_generation()
            self.generations.publish(path)
        return whoosh_index.open_dir(str(path))

    def _new_generation(self) -> Path:
        path = self.generations.create()
        whoosh_index.create_in(str(path), build_schema())
        return path

    def is_current(self) -> bool:
        """False when the index on disk was built with another schema (an older version of Parole) or is unreadable."""
        path = self.generations.current()
        if path is None:
            return True  # created with the current schema on first use
        if self.open_error() is not None:
            return False
        return set(whoosh_index.open_dir(str(path)).schema.names()) == set(build_schema().names())

    def open_error(self) -> str | None:
        """Why the live index cannot be read (damaged or missing files), or None when it can.

        Whoosh raises many kinds of errors on a damaged folder; whichever it is, the index is
        derived and the answer is the same: rebuild it from the store.
        """
        path = self.generations.current()
        if path is None:
            return None
        try:
            with whoosh_index.open_dir(str(path)).searcher() as searcher:
                searcher.doc_count()
        except Exception as error:  # any failure to read means "damaged"
            return f"{type(error).__name__}: {error}"
        return None

    # -- reading -------------------------------------------------------------------

    def searcher(self):
        """A searcher for this thread (Whoosh searchers are not safe to share across threads)."""
        name = self.generations.current_name()
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None or local.generation != name:
            if searcher is not None:
                searcher.close()
            local.searcher, local.generation = self.open().searcher(), self.generations.current_name()
        elif not searcher.up_to_date():
            # Not refresh(): in whoosh-reloaded 2.7.5 it keeps merged-away segments.
            searcher.close()
            local.searcher = self.open().searcher()
        return local.searcher

    def search(self, request):
        from archive.whoosh_search import search_page

        return search_page(self, request)

    def document_count(self, kind: str | None = None, episode_id: str | None = None) -> int:
        from whoosh.query import And, Term

        terms = [Term(name, value) for name, value in (("kind", kind), ("episode_id", episode_id)) if value]
        searcher = self.open().searcher()
        try:
            if not terms:
                return searcher.doc_count()
            return len(searcher.search(terms[0] if len(terms) == 1 else And(terms), limit=None))
        finally:
            searcher.close()

    def indexed_keys(self) -> list[tuple[str, str]]:
        """(doc_id, episode_id) of every live document, duplicates included: what ``parole verify`` compares."""
        path = self.generations.current()
        if path is None:
            return []
        with whoosh_index.open_dir(str(path)).searcher() as searcher:
            return [(fields.get("doc_id", ""), fields.get("episode_id", "")) for fields in searcher.all_stored_fields()]

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def _writer(self, ix=None, **options):
        ix = ix or self.open()
        try:
            writer = ix.writer(timeout=indexing.WRITER_TIMEOUT, **options)
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
        self.replace_documents(str(episode.id), episode_documents(episode))

    def replace_documents(self, episode_id: str, documents: Iterable[dict]) -> None:
        """An episode's documents replaced by these, in one commit."""
        with self._writer() as writer:
            writer.delete_by_term("episode_id", episode_id)
            for document in documents:
                writer.add_document(**document)

    def delete_episode(self, episode_id: int) -> None:
        with self._writer() as writer:
            writer.delete_by_term("episode_id", str(episode_id))

    def rebuild(self, episodes: Iterable[Episode]) -> int:
        """Build a fresh generation from the store and swap it in; returns the document count."""
        return self.rebuild_from(document for episode in episodes for document in episode_documents(episode))

    def rebuild_from(self, documents: Iterable[dict], procs: int = 1) -> int:
        """A new generation holding exactly these documents, swapped in once complete."""
        options = {"procs": procs, "multisegment": True, "limitmb": 256} if procs > 1 else {"limitmb": 256}
        count = 0
        with self.generations.building() as path:
            whoosh_index.create_in(str(path), build_schema())
            with self._writer(whoosh_index.open_dir(str(path)), **options) as writer:
                for document in documents:
                    writer.add_document(**document)
                    count += 1
        return count
