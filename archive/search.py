"""Search the index: any text a person types gives results or none, never an error.

- Plain words are all required (BM25F ranking), ``"exact phrases"``, ``-exclusion`` and
  ``OR`` work; accents, case and plurals do not matter (see archive.analysis).
- A passage matches when the words are found in what was said, its chapter title, or who
  says it (name, role, organisation); an episode's title and description find the
  episode itself, not every passage in it.
- When nothing matches, a fuzzy search runs (one or two letters off) and the index's own
  vocabulary proposes a spelling ("Vouliez-vous dire …").
- Facet counts (person, organisation, chapter theme, year) are read from index columns
  over every matching passage, and filters narrow the results by the same values.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
from markupsafe import escape
from whoosh import highlight
from whoosh.qparser import AndGroup, MultifieldParser, plugins
from whoosh.query import And, Every, NullQuery, Or, Query, Term
from whoosh.searching import Hit

from archive.analysis import FRENCH_STOP_WORDS, fold
from archive.index import SearchIndex

MAX_QUERY_LENGTH = 500
PER_PAGE = 20
PASSAGE_FIELDS = {"text": 1.0, "chapter": 0.6, "who": 0.4}
FACETS = {"personne": "person_slug", "organisation": "organisation_key", "theme": "chapter_key", "annee": "year"}


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

    def filters(self) -> dict[str, str]:
        return {name: value for name in FACETS if (value := getattr(self, name))}


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


def _parser(schema, fields: list[str] | dict[str, float], group=AndGroup) -> MultifieldParser:
    boosts = fields if isinstance(fields, dict) else None
    parser = MultifieldParser(list(fields), schema, fieldboosts=boosts, group=group)
    # Field names ("titre:…") and wildcards ("*") are not for the public: typed text is text.
    for plugin_type in (plugins.FieldsPlugin, plugins.WildcardPlugin, plugins.BoostPlugin,
                        plugins.RangePlugin, plugins.FuzzyTermPlugin):
        parser.remove_plugin_class(plugin_type)
    parser.add_plugin(plugins.PlusMinusPlugin())
    return parser


def parse_query(schema, text: str, fields: list[str] | dict[str, float], group=AndGroup) -> Query | None:
    """Whoosh's parser with a safe fallback: the plain words of the text, all required."""
    try:
        query = _parser(schema, fields, group).parse(text)
    except Exception:  # the parser can fail on odd input; a person still gets results
        query = None
    if query is None or query is NullQuery or isinstance(query, Every):
        words = [token.text for token in schema["text"].analyzer(text)]
        if not words:
            return None
        query = And([Or([Term(name, word) for name in fields]) for word in words])
    return query


def _clean(text: str) -> str:
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _fuzzy(searcher, text: str) -> Query | None:
    """Every word may be one letter off (two for long words), matched against the archive's real words.

    Typos are matched on whole words (the unstemmed spelling field), then each word found is
    searched by its stem: "recrutemnt" finds "recrutement", hence "recrutés" too.
    """
    reader = searcher.reader()
    analyzer = searcher.schema["text"].analyzer
    groups = []
    for word in re.findall(r"\w+", fold(text)):
        if word in FRENCH_STOP_WORDS or len(word) < 2:
            continue
        distance = 2 if len(word) >= 8 else 1
        near = list(reader.terms_within("spell_text", word, distance, prefix=1)) or [word]
        stems = {token.text for candidate in near for token in analyzer(candidate)}
        if stems:
            groups.append(Or([Term("text", stem) for stem in sorted(stems)]))
    return And(groups) if groups else None


def _suggestion(searcher, text: str) -> str | None:
    """The query with unknown words replaced by the closest words of the archive's vocabulary."""
    changed, words = False, []
    for word in re.findall(r"\w+", text):
        folded = fold(word)
        if len(folded) > 2 and not searcher.reader().frequency("spell_text", folded):
            proposals = searcher.suggest("text", folded, limit=1, maxdist=2, prefix=1)
            if proposals and proposals[0] != folded:
                words.append(proposals[0])
                changed = True
                continue
        words.append(word)
    return " ".join(words) if changed else None


def _snippet(hit) -> str:
    text = hit.get("text") or ""
    try:
        html = hit.highlights("text", text=text)
    except Exception:  # highlighting is a nicety; the passage itself is what matters
        html = ""
    return html or str(escape(text if len(text) <= 240 else text[:240] + " …"))


class _Columns:
    """Facet columns of one searcher's documents as integer codes, read once per index version."""

    def __init__(self, searcher) -> None:
        reader = searcher.reader()
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, list[str]] = {}
        for name, column in {**FACETS, "episode": "episode_id"}.items():
            positions: dict[str, int] = {}
            codes = np.fromiter((positions.setdefault(value, len(positions)) if value else -1
                                 for value in _column_values(reader, column)), dtype=np.int64)
            values = [""] * len(positions)
            for value, position in positions.items():
                values[position] = value
            self.codes[name], self.values[name] = codes, values

    def count(self, name: str, docnums: np.ndarray) -> Counter:
        codes = self.codes[name][docnums]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.values[name]))
        return Counter({self.values[name][code]: int(n) for code in np.flatnonzero(counts) for n in [counts[code]]})


def _column_values(reader, column: str):
    """Every document's value in a column; a segment where no document set the field has none."""
    for leaf, _offset in reader.leaf_readers():
        if leaf.has_column(column):
            yield from leaf.column_reader(column)
        else:
            yield from [""] * leaf.doc_count_all()


_columns_cache: OrderedDict[int, tuple[object, _Columns]] = OrderedDict()
_columns_lock = threading.Lock()


def _columns(searcher) -> _Columns:
    """The columns of this searcher's index version; each web thread keeps its own searcher."""
    key = id(searcher)
    with _columns_lock:
        cached = _columns_cache.get(key)
        if cached is not None and cached[0] is searcher:
            _columns_cache.move_to_end(key)
            return cached[1]
    columns = _Columns(searcher)
    with _columns_lock:
        _columns_cache[key] = (searcher, columns)
        while len(_columns_cache) > 32:
            _columns_cache.popitem(last=False)
    return columns


def _facet_counts(searcher, docnums: list[int], request: SearchRequest) -> tuple[dict, Counter]:
    columns = _columns(searcher)
    array = np.fromiter(docnums, dtype=np.int64, count=len(docnums))
    counts = {name: columns.count(name, array) for name in FACETS}
    per_episode = columns.count("episode", array)
    labels: dict[str, str] = {}
    for slug in counts["personne"]:
        document = searcher.document(person_slug=slug)
        labels[slug] = document.get("person_name", slug) if document else slug
    facets = {}
    for name, counter in counts.items():
        if name == "annee":
            ordered = sorted(counter.items(), reverse=True)
        else:
            ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        selected = getattr(request, name)
        facets[name] = [FacetValue(value, labels.get(value, value), count, value == selected)
                        for value, count in ordered[:12]]
    return facets, per_episode


def search(index: SearchIndex, request: SearchRequest) -> SearchResults:
    """One page of results for a request."""
    text = _clean(request.text)
    searcher = index.searcher()
    schema = searcher.schema
    empty = SearchResults(text, [], 0)
    full = parse_query(schema, text, PASSAGE_FIELDS)
    if full is None:
        return empty

    # Only passages have the "text", "chapter" and "who" fields: chapters and episodes stay out.
    filters = [Term(FACETS[name], value) for name, value in request.filters().items()]
    if request.episode_id is not None:
        filters.append(Term("episode_id", str(request.episode_id)))
    sort = {"sortedby": "date", "reverse": True} if request.sort == "date" else {}
    results = searcher.search(And([*filters, full]) if filters else full, limit=None, **sort)
    suggestion = _suggestion(searcher, text) if results.scored_length() < 3 else None
    fuzzy = False
    if results.scored_length() == 0:
        loose = _fuzzy(searcher, text)
        if loose is not None:
            results = searcher.search(And([*filters, loose]), limit=None, **sort)
            fuzzy = results.scored_length() > 0
    ranked = list(results.top_n)
    if request.sort != "date":
        ranked.sort(key=lambda item: (-item[0], item[1]))  # equal scores in a stable order across pages
    docnums = [docnum for _score, docnum in ranked]

    facets, per_episode = _facet_counts(searcher, docnums, request)
    pages = max(1, math.ceil(len(docnums) / request.per_page))
    page = min(max(1, request.page), pages)
    results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    results.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=80)

    groups: dict[str, EpisodeResults] = {}
    first = (page - 1) * request.per_page
    for position, (key, docnum) in enumerate(ranked[first:first + request.per_page], start=first):
        hit = Hit(results, docnum, position, key)
        if hit.get("kind") != "utterance":  # a query of exclusions only matches every kind of document
            continue
        score = key if isinstance(key, float) else 0.0  # a sort key, not a score, when sorted by date
        group = _group(groups, hit, score)
        group.passage_count = per_episode[hit["episode_id"]]
        group.passages.append(Passage(
            hit["doc_id"], hit["start_ms"] / 1000, hit["end_ms"] / 1000, hit.get("speaker", ""),
            hit.get("person_slug", ""), hit.get("person_role", ""), hit.get("chapter", ""), _snippet(hit), score))

    if page == 1 and not request.filters() and request.episode_id is None and request.sort != "date":
        _add_episode_and_chapter_hits(searcher, text, groups)
    ordered = list(groups.values())
    if request.sort != "date":
        ordered.sort(key=lambda group: -group.score)
    return SearchResults(text, ordered, len(docnums), len(per_episode) or len(ordered), facets, suggestion, fuzzy,
                         page, pages)


def _group(groups: dict[str, EpisodeResults], hit, score: float = 0.0) -> EpisodeResults:
    """The result group of the hit's episode, created at its first hit."""
    return groups.setdefault(hit["episode_id"], EpisodeResults(
        int(hit["episode_id"]), hit["slug"], hit["episode_title"], hit["date"], score))


def _add_episode_and_chapter_hits(searcher, text: str, groups: dict[str, EpisodeResults]) -> None:
    """Episodes whose title, description or guests match, and chapters whose title matches."""
    schema = searcher.schema
    chapters_query = parse_query(schema, text, ["chapter_title", "keywords"])
    episodes_query = parse_query(schema, text, ["title", "description", "guests"])
    if chapters_query is not None:
        for hit in searcher.search(chapters_query, limit=50):
            if hit.get("kind") != "chapter":
                continue
            group = _group(groups, hit)
            group.chapters.append(ChapterHit(hit["chapter_title"], hit["start_ms"] / 1000))
            group.score = max(group.score, hit.score)
    if episodes_query is not None:
        for hit in searcher.search(episodes_query, limit=50):
            if hit.get("kind") != "episode":
                continue
            group = _group(groups, hit)
            group.score = max(group.score, hit.score)
