"""The tantivy search index: the same documents as the Whoosh one, searched in Rust.

Chosen with ``PAROLE_SEARCH_ENGINE=tantivy`` when the archive is large: tantivy ranks,
counts facets and pages through hundreds of thousands of passages in milliseconds.

The French analysis stays in Python (archive.analysis), so both engines agree on every
word: analysed fields are indexed as their terms separated by spaces. The words as
spoken are kept in ``spell`` (stored, and indexed folded but unstemmed for fuzzy
matching), the fields a page shows in one stored JSON ``meta``. Like Whoosh, tantivy
allows one writer per index; a rebuild is a new generation swapped in at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy

from archive import indexing
from archive.analysis import index_terms
from archive.generations import Generations
from archive.indexing import IndexBusyError, episode_documents
from archive.models import Episode

SCHEMA_VERSION = "1"
# Exact values: filters, facet counts, deletion by episode and the date order.
KEYWORD_FIELDS = ("kind", "episode_id", "person_slug", "organisation_key", "chapter_key", "year", "date")
# Searchable text, indexed as the French analyser's terms.
ANALYSED_FIELDS = ("text", "chapter", "who", "chapter_title", "keywords", "title", "description", "guests")
# What a results page shows of a document.
SHOWN_FIELDS = ("doc_id", "kind", "episode_id", "slug", "date", "episode_title", "speaker", "person_slug",
                "person_name", "person_role", "organisation", "chapter", "chapter_title", "start_ms", "end_ms")
WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in ANALYSED_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("spell", stored=True, tokenizer_name="spell", index_option="freq")
    builder.add_bytes_field("meta", stored=True, indexed=False)
    return builder.build()


def _spelling_analyzer() -> tantivy.TextAnalyzer:
    """Words lower-cased without accents, not stemmed: the vocabulary that typos are matched against."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"\w+"))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


def to_document(fields: dict) -> tantivy.Document:
    document = tantivy.Document()
    for name in KEYWORD_FIELDS:
        if fields.get(name):
            document.add_text(name, fields[name])
    for name in ANALYSED_FIELDS:
        if fields.get(name):
            document.add_text(name, " ".join(index_terms(fields[name])))
    if fields.get("text"):
        document.add_text("spell", fields["text"])
    shown = {name: fields[name] for name in SHOWN_FIELDS if fields.get(name) not in (None, "")}
    document.add_bytes("meta", json.dumps(shown, ensure_ascii=False).encode())
    return document


class TantivyIndex:
    name = "tantivy"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.generations = Generations(self.root)
        self.schema = build_schema()
        self._lock = threading.Lock()
        self._opened: tuple[Path, tantivy.Index] | None = None
        self._seen_commit: tuple[int, int] | None = None

    def exists(self) -> bool:
        return self.generations.current() is not None

    def is_current(self) -> bool:
        """False when the index on disk was built by another version of this schema, or is unreadable."""
        path = self.generations.current()
        if path is None:
            return True
        try:
            if (path / "parole-schema").read_text(errors="replace").strip() != SCHEMA_VERSION:
                return False
        except FileNotFoundError:
            return False
        return self.open_error() is None

    def open_error(self) -> str | None:
        """Why the live index cannot be read (damaged or missing files), or None when it can."""
        path = self.generations.current()
        if path is None:
            return None
        try:
            tantivy.Index.open(str(path)).searcher().num_docs  # noqa: B018 - opening every segment is the check
        except Exception as error:  # any failure to read means "damaged": the index is rebuilt from the store
            return str(error)
        return None

    def _create(self, path: Path) -> tantivy.Index:
        index = tantivy.Index(self.schema, path=str(path))
        (path / "parole-schema").write_text(SCHEMA_VERSION + "\n")
        index.register_tokenizer("spell", _spelling_analyzer())
        return index

    def open(self) -> tantivy.Index:
        """The live index (created empty the first time), reloaded when another process committed."""
        with self._lock:
            path = self.generations.current()
            if path is None:
                self.root.mkdir(parents=True, exist_ok=True)
                path = self.generations.create()
                self._create(path)
                self.generations.publish(path)
            if self._opened is None or self._opened[0] != path:
                index = tantivy.Index.open(str(path))
                index.register_tokenizer("spell", _spelling_analyzer())
                self._opened, self._seen_commit = (path, index), None
            path, index = self._opened
            commit = _commit_stamp(path)
            if commit != self._seen_commit:
                index.reload()
                self._seen_commit = commit
            return index

    # -- reading -------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.open().searcher()

    def search(self, request):
        from archive.tantivy_search import search_page

        return search_page(self, request)

    def document_count(self, kind: str | None = None, episode_id: str | None = None) -> int:
        searcher = self.searcher()
        terms = [tantivy.Query.term_query(self.schema, name, value)
                 for name, value in (("kind", kind), ("episode_id", episode_id)) if value]
        if not terms:
            return searcher.num_docs
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, term) for term in terms])
        return searcher.search(query, limit=1, count=True).count

    def indexed_keys(self) -> list[tuple[str, str]]:
        """(doc_id, episode_id) of every live document, duplicates included: what ``parole verify`` compares."""
        if self.generations.current() is None:
            return []
        searcher = self.searcher()
        if searcher.num_docs == 0:
            return []
        keys = []
        for _score, address in searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs).hits:
            shown = json.loads(bytes(searcher.doc(address)["meta"][0]))
            keys.append((shown.get("doc_id", ""), shown.get("episode_id", "")))
        return keys

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def _writer(self, index: tantivy.Index, heap: int = WRITER_HEAP) -> Iterator[tantivy.IndexWriter]:
        writer = _acquire_writer(index, heap)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            writer.wait_merging_threads()
            raise
        writer.commit()
        writer.wait_merging_threads()  # also releases the writer lock for the next process
        index.reload()

    def add_episode(self, episode: Episode) -> None:
        self.replace_documents(str(episode.id), episode_documents(episode))

    def replace_documents(self, episode_id: str, documents: Iterable[dict]) -> None:
        """An episode's documents replaced by these, in one commit."""
        with self._writer(self.open()) as writer:
            writer.delete_documents_by_term("episode_id", episode_id)
            for fields in documents:
                writer.add_document(to_document(fields))

    def delete_episode(self, episode_id: int) -> None:
        with self._writer(self.open()) as writer:
            writer.delete_documents_by_term("episode_id", str(episode_id))

    def rebuild(self, episodes: Iterable[Episode]) -> int:
        """Build a fresh generation from the store and swap it in; returns the document count."""
        return self.rebuild_from(document for episode in episodes for document in episode_documents(episode))

    def rebuild_from(self, documents: Iterable[dict]) -> int:
        """A new generation holding exactly these documents, swapped in once complete."""
        count = 0
        with self.generations.building() as path, self._writer(self._create(path), REBUILD_HEAP) as writer:
            for fields in documents:
                writer.add_document(to_document(fields))
                count += 1
        return count


def _commit_stamp(path: Path) -> tuple[int, int]:
    """Changes with every commit, whichever process made it (tantivy rewrites meta.json)."""
    try:
        stat = os.stat(path / "meta.json")
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


def _acquire_writer(index: tantivy.Index, heap: int) -> tantivy.IndexWriter:
    """The index's single writer, waiting up to WRITER_TIMEOUT for another process to let it go."""
    deadline = time.monotonic() + indexing.WRITER_TIMEOUT
    while True:
        try:
            return index.writer(heap_size=heap, num_threads=1)
        except ValueError as error:
            if "LockBusy" not in str(error):
                raise
            if time.monotonic() >= deadline:
                raise IndexBusyError("L'index de recherche est occupé par une autre écriture ; réessayez.") from error
            time.sleep(0.05)
