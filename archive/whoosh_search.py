"""The results page from the Whoosh index.

Whoosh scores every match in Python, so the page takes care where the time goes: facet
counts come from the index's sortable columns, read once per index version as integer
codes and counted with numpy; only the 20 passages of the page read their stored fields;
snippets come from the stored text (archive.snippets).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict

import numpy as np
from whoosh.query import And, Not, Or, Query, Term

from archive import query as typed
from archive.analysis import singular
from archive.search import (
    FACETS,
    SearchRequest,
    SearchResults,
    facet_values,
    page_window,
    passage_from,
    ranked_groups,
    result_group,
)
from archive.snippets import snippet


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
        return Counter({self.values[name][code]: int(counts[code]) for code in np.flatnonzero(counts)})


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


def _facets(searcher, docnums: list[int], request: SearchRequest) -> tuple[dict, Counter]:
    columns = _columns(searcher)
    array = np.fromiter(docnums, dtype=np.int64, count=len(docnums))
    counts = {name: columns.count(name, array) for name in FACETS}
    labels = {}
    for slug in counts["personne"]:
        document = searcher.document(person_slug=slug)
        labels[slug] = document.get("person_name", slug) if document else slug
    return facet_values(counts, labels, request), columns.count("episode", array)


class _Vocabulary(typed.Vocabulary):
    """Real words of the archive, from the unstemmed spelling field.

    That field keeps words in their singular form ("habitant", "moi" for "mois"): a plural
    typed right is known, not a typo of its own singular.
    """

    def __init__(self, searcher) -> None:
        self.reader = searcher.reader()

    def near(self, word: str, max_distance: int):
        same = singular(word)
        return (candidate for candidate in self.reader.terms_within("spell_text", same, max_distance, prefix=1)
                if candidate != same)

    def frequency(self, word: str) -> int:
        return self.reader.doc_frequency("spell_text", singular(word))


def search_page(index, request: SearchRequest) -> SearchResults:
    text = typed.clean(request.text)
    searcher = index.searcher()
    full = typed.parse(text, typed.PASSAGE_FIELDS)
    if full is None:
        return SearchResults(text, [], 0)

    # Only passages have the "text", "chapter" and "who" fields: chapters and episodes stay out.
    filters: list[Query] = [Term(FACETS[name], value) for name, value in request.filters().items()]
    if request.episode_id is not None:
        filters.append(Term("episode_id", str(request.episode_id)))
    if request.hidden:
        filters.append(Not(Or([Term("episode_id", str(number)) for number in sorted(request.hidden)])))
    sort = {"sortedby": "date", "reverse": True} if request.by_date else {}
    results = searcher.search(And([*filters, full]) if filters else full, limit=None, **sort)
    vocabulary = _Vocabulary(searcher)
    suggestion = typed.suggestion(text, vocabulary) if results.scored_length() < 3 else None
    fuzzy = False
    if results.scored_length() == 0:
        loose = typed.fuzzy_query(text, vocabulary, full)
        if loose is not None:
            results = searcher.search(And([*filters, loose]), limit=None, **sort)
            fuzzy = results.scored_length() > 0
            full = loose
    ranked = list(results.top_n)
    if not request.by_date:
        ranked.sort(key=lambda item: (-item[0], item[1]))  # equal scores in a stable order across pages
    docnums = [docnum for _score, docnum in ranked]

    facets, per_episode = _facets(searcher, docnums, request)
    page, pages, first = page_window(len(docnums), request)
    terms = frozenset(typed.positive_terms(full))
    groups = {}
    for key, docnum in ranked[first:first + request.per_page]:
        document = searcher.stored_fields(docnum)
        if document.get("kind") != "utterance":  # a query of exclusions only matches every kind of document
            continue
        score = key if isinstance(key, float) else 0.0  # a sort key, not a score, when sorted by date
        group = result_group(groups, document, score)
        group.passage_count = per_episode[document["episode_id"]]
        group.passages.append(passage_from(document, snippet(document.get("text", ""), terms), score))

    if request.whole_archive:
        _add_episode_and_chapter_hits(searcher, text, groups, request.hidden)
    return SearchResults(text, ranked_groups(groups, request), len(docnums), len(per_episode) or len(groups),
                         facets, suggestion, fuzzy, page, pages)


def _add_episode_and_chapter_hits(searcher, text: str, groups: dict, hidden: frozenset[int]) -> None:
    """Episodes whose title, description or guests match, and chapters whose title matches."""
    from archive.search import ChapterHit

    chapters_query = typed.parse(text, typed.CHAPTER_FIELDS)
    episodes_query = typed.parse(text, typed.EPISODE_FIELDS)
    if chapters_query is not None:
        for hit in searcher.search(chapters_query, limit=50):
            if hit.get("kind") != "chapter" or int(hit["episode_id"]) in hidden:
                continue
            group = result_group(groups, hit.fields())
            group.chapters.append(ChapterHit(hit["chapter_title"], hit["start_ms"] / 1000))
            group.score = max(group.score, hit.score)
    if episodes_query is not None:
        for hit in searcher.search(episodes_query, limit=50):
            if hit.get("kind") != "episode" or int(hit["episode_id"]) in hidden:
                continue
            group = result_group(groups, hit.fields())
            group.score = max(group.score, hit.score)
