"""Search the archive: any text a person types gives results or none, never an error.

- Plain words are all required (BM25 ranking), ``"exact phrases"``, ``-exclusion`` and
  ``OR`` work; accents, case and plurals do not matter (see archive.analysis).
- A passage matches when the words are found in what was said, its chapter title, or who
  says it (name, role, organisation); an episode's title and description find the
  episode itself, not every passage in it.
- When nothing matches, a fuzzy search runs (one or two letters off) and the index's own
  vocabulary proposes a spelling ("Vouliez-vous dire …").
- Facet counts (person, organisation, chapter theme, year) cover every matching passage,
  and filters narrow the results by the same values.

This module holds what a search asks and answers; each engine (archive.whoosh_search,
archive.tantivy_search) builds the same answer its own way.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

PER_PAGE = 20
# Facet name in the request and the page → index column.
FACETS = {"personne": "person_slug", "organisation": "organisation_key", "theme": "chapter_key", "annee": "year"}
FACET_SIZE = 12


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    personne: str = ""
    organisation: str = ""
    theme: str = ""
    annee: str = ""
    episode_id: int | None = None
    sort: str = "pertinence"  # or "date"
    page: int = 1
    per_page: int = PER_PAGE
    hidden: frozenset[int] = frozenset()  # episodes listeners may not see yet (drafts, scheduled)

    def filters(self) -> dict[str, str]:
        return {name: value for name in FACETS if (value := getattr(self, name))}

    @property
    def by_date(self) -> bool:
        return self.sort == "date"

    @property
    def whole_archive(self) -> bool:
        """No filter, no episode, by relevance: the first page then also shows matching episodes and chapters."""
        return self.page == 1 and not self.filters() and self.episode_id is None and not self.by_date


@dataclass
class Passage:
    utterance_doc: str
    start: float
    end: float
    speaker: str
    person_slug: str
    person_role: str
    chapter: str
    snippet_html: str  # escaped text with <mark> around matched words
    score: float


@dataclass
class ChapterHit:
    title: str
    start: float


@dataclass
class EpisodeResults:
    episode_id: int
    slug: str
    title: str
    date: str
    score: float
    passages: list[Passage] = field(default_factory=list)
    passage_count: int = 0
    chapters: list[ChapterHit] = field(default_factory=list)


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResults:
    query: str
    episodes: list[EpisodeResults]
    passage_count: int
    episode_total: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    fuzzy: bool = False
    page: int = 1
    pages: int = 1

    @property
    def episode_count(self) -> int:
        return self.episode_total or len(self.episodes)


class SearchEngine(Protocol):
    """What the store and the site need of a search index, whichever engine it is."""

    name: str

    def search(self, request: SearchRequest) -> SearchResults: ...
    def add_episode(self, episode) -> None: ...
    def replace_documents(self, episode_id: str, documents) -> None: ...
    def delete_episode(self, episode_id: int) -> None: ...
    def rebuild(self, episodes) -> int: ...
    def is_current(self) -> bool: ...
    def exists(self) -> bool: ...
    def document_count(self, kind: str | None = None, episode_id: str | None = None) -> int: ...
    def open_error(self) -> str | None: ...
    def indexed_keys(self) -> list[tuple[str, str]]: ...


def search(index: SearchEngine, request: SearchRequest) -> SearchResults:
    """One page of results for a request."""
    return index.search(request)


def page_window(total: int, request: SearchRequest) -> tuple[int, int, int]:
    """(page, pages, offset of its first passage): a page past the end shows the last one."""
    pages = max(1, math.ceil(total / request.per_page))
    page = min(max(1, request.page), pages)
    return page, pages, (page - 1) * request.per_page


def facet_values(counts: Mapping[str, Counter], labels: Mapping[str, str],
                 request: SearchRequest) -> dict[str, list[FacetValue]]:
    """The values shown for each facet: years newest first, the others most frequent first."""
    facets = {}
    for name, counter in counts.items():
        if name == "annee":
            ordered = sorted(counter.items(), reverse=True)
        else:
            ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        selected = getattr(request, name)
        facets[name] = [FacetValue(value, labels.get(value, value), count, value == selected)
                        for value, count in ordered[:FACET_SIZE]]
    return facets


def result_group(groups: dict[str, EpisodeResults], document: Mapping, score: float = 0.0) -> EpisodeResults:
    """The result group of a document's episode, created at its first hit."""
    return groups.setdefault(document["episode_id"], EpisodeResults(
        int(document["episode_id"]), document["slug"], document["episode_title"], document["date"], score))


def passage_from(document: Mapping, snippet_html: str, score: float) -> Passage:
    return Passage(document["doc_id"], document["start_ms"] / 1000, document["end_ms"] / 1000,
                   document.get("speaker", ""), document.get("person_slug", ""), document.get("person_role", ""),
                   document.get("chapter", ""), snippet_html, score)


def ranked_groups(groups: dict[str, EpisodeResults], request: SearchRequest) -> list[EpisodeResults]:
    ordered = list(groups.values())
    if not request.by_date:
        ordered.sort(key=lambda group: -group.score)
    return ordered
