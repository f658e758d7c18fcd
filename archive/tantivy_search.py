"""The results page from the tantivy index.

The typed text is parsed once into the shared query tree (archive.query) and translated
into tantivy queries. tantivy then does the heavy work in Rust: ranking (BM25), the top
passages of the page, facet counts and passages per episode (terms aggregations over its
fast fields). Only the page's passages are read from the store; snippets come from their
stored text (archive.snippets).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import tantivy
from tantivy import Occur
from tantivy import Query as TQuery
from whoosh import query as wq

from archive import query as typed
from archive.analysis import fold, singular
from archive.search import (
    FACETS,
    ChapterHit,
    SearchRequest,
    SearchResults,
    facet_values,
    page_window,
    passage_from,
    ranked_groups,
    result_group,
)
from archive.snippets import snippet

# The weights the Whoosh schema gives these fields, so both engines rank alike.
FIELD_BOOSTS = {"chapter": 1.5, "title": 2.0}
FUZZY_SAMPLE = 30  # passages read to find the real spellings near a typo
MAX_EPISODES = 100_000


class UntranslatableQuery(Exception):
    """A query node the translation does not know; the plain words are searched instead."""


def translate(node: wq.Query, schema: tantivy.Schema) -> TQuery | None:
    """The tantivy query for a node of the shared query tree; None for a node that matches nothing."""
    if node is None or node is wq.NullQuery:
        return None
    if isinstance(node, wq.Term):
        return _boosted(TQuery.term_query(schema, node.fieldname, node.text), node.fieldname, node.boost)
    if isinstance(node, wq.Phrase):
        words = list(node.words)
        if not words:
            return None
        base = (TQuery.term_query(schema, node.fieldname, words[0]) if len(words) == 1
                else TQuery.phrase_query(schema, node.fieldname, words, node.slop - 1))
        return _boosted(base, node.fieldname, node.boost)
    if isinstance(node, wq.Every):
        return TQuery.all_query()
    if isinstance(node, wq.Not):
        child = translate(node.query, schema)
        if child is None:
            return TQuery.all_query()
        return TQuery.boolean_query([(Occur.Must, TQuery.all_query()), (Occur.MustNot, child)])
    if isinstance(node, wq.AndNot):
        return _boolean([(Occur.Must, translate(node.a, schema)), (Occur.MustNot, translate(node.b, schema))])
    if isinstance(node, wq.AndMaybe):
        return _boolean([(Occur.Must, translate(node.a, schema)), (Occur.Should, translate(node.b, schema))])
    if isinstance(node, wq.Require):
        return _boolean([(Occur.Must, translate(node.a, schema)), (Occur.Must, translate(node.b, schema))])
    if isinstance(node, wq.And):
        return _boolean([(Occur.Must, translate(child, schema)) for child in node.subqueries])
    if isinstance(node, wq.Or):
        return _boolean([(Occur.Should, translate(child, schema)) for child in node.subqueries])
    raise UntranslatableQuery(type(node).__name__)


def _boosted(query: TQuery, field: str, boost: float) -> TQuery:
    weight = boost * FIELD_BOOSTS.get(field, 1.0)
    return query if weight == 1.0 else TQuery.boost_query(query, weight)


def _boolean(clauses: list[tuple[Occur, TQuery | None]]) -> TQuery | None:
    """A boolean query without its empty parts: a required part that matches nothing makes it match nothing."""
    kept = []
    for occur, query in clauses:
        if query is None:
            if occur == Occur.Must:
                return None
            continue
        kept.append((occur, query))
    if not any(occur != Occur.MustNot for occur, _ in kept):
        return None
    return TQuery.boolean_query(kept)


def compile_query(text: str, fields, schema: tantivy.Schema) -> tuple[wq.Query | None, TQuery | None]:
    """The shared query tree of a text and its tantivy translation (the plain words if it has no translation)."""
    node = typed.parse(text, fields)
    try:
        return node, translate(node, schema)
    except UntranslatableQuery:
        node = typed.parse(" ".join(re.findall(r"\w+", text)), fields)
        return node, translate(node, schema)


class _Vocabulary(typed.Vocabulary):
    """Real words of the archive near a typo: the spellings found in passages that tantivy matched fuzzily."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema) -> None:
        self.searcher, self.schema = searcher, schema

    def near(self, word: str, max_distance: int):
        query = TQuery.fuzzy_term_query(self.schema, "spell", word, distance=max_distance)
        for _score, address in self.searcher.search(query, limit=FUZZY_SAMPLE, count=False).hits:
            for spoken in self.searcher.doc(address)["spell"]:
                # In the singular, as the Whoosh vocabulary holds them: both engines then weigh the same words.
                yield from (singular(found) for found in re.findall(r"\w+", fold(spoken)))

    def frequency(self, word: str) -> int:
        """Passages holding the word in the singular or plural: a plural typed right is not a typo of its singular
        (the Whoosh vocabulary, kept in the singular, answers the same)."""
        base = singular(word)
        forms = {word, base} | ({base + "s", base + "x"} if base != word or len(word) > 3 else set())
        return sum(self.searcher.doc_freq("spell", form) for form in forms)


def _filtered(query: TQuery, filters: list[TQuery]) -> TQuery:
    """The query restricted by filters that do not change its scores."""
    clauses = [(Occur.Must, query)] + [(Occur.Must, TQuery.const_score_query(f, 0.0)) for f in filters]
    return TQuery.boolean_query(clauses)


def _meta(searcher: tantivy.Searcher, address) -> tuple[dict, str]:
    document = searcher.doc(address)
    spoken = document["spell"]
    return json.loads(bytes(document["meta"][0])), spoken[0] if spoken else ""


def search_page(index, request: SearchRequest) -> SearchResults:
    text = typed.clean(request.text)
    schema, searcher = index.schema, index.searcher()
    node, full = compile_query(text, typed.PASSAGE_FIELDS, schema)
    if full is None:
        return SearchResults(text, [], 0)

    term = lambda field, value: TQuery.term_query(schema, field, value)  # noqa: E731
    filters = [term("kind", "utterance")]
    filters += [term(FACETS[name], value) for name, value in request.filters().items()]
    if request.episode_id is not None:
        filters.append(term("episode_id", str(request.episode_id)))
    if request.hidden:
        hidden = TQuery.term_set_query(schema, "episode_id", [str(number) for number in sorted(request.hidden)])
        filters.append(TQuery.boolean_query([(Occur.Must, TQuery.all_query()), (Occur.MustNot, hidden)]))
    order = {"order_by_field": "date", "order": tantivy.Order.Desc} if request.by_date else {}

    def run(query: TQuery | None, offset: int):
        if query is None:
            return None, 0
        found = searcher.search(_filtered(query, filters), limit=request.per_page, offset=offset, count=True, **order)
        return found, found.count

    first = (max(1, request.page) - 1) * request.per_page
    found, total = run(full, first)
    vocabulary = _Vocabulary(searcher, schema)
    suggestion = typed.suggestion(text, vocabulary) if total < 3 else None
    fuzzy = False
    if total == 0:
        loose = typed.fuzzy_query(text, vocabulary, node)
        if loose is not None:
            node, full = loose, translate(loose, schema)
            found, total = run(full, first)
            fuzzy = total > 0
    page, pages, clamped = page_window(total, request)
    if total and clamped != first:
        found, total = run(full, clamped)

    counts, per_episode = _aggregations(searcher, _filtered(full, filters)) if total else _no_counts()
    labels = _person_labels(searcher, schema, counts["personne"])
    terms = frozenset(typed.positive_terms(node))
    groups = {}
    for key, address in found.hits if total else []:
        document, spoken = _meta(searcher, address)
        score = key if isinstance(key, float) else 0.0  # a sort key, not a score, when sorted by date
        group = result_group(groups, document, score)
        group.passage_count = per_episode[document["episode_id"]]
        group.passages.append(passage_from(document, snippet(spoken, terms), score))

    if request.whole_archive:
        _add_episode_and_chapter_hits(searcher, schema, text, groups, request.hidden)
    return SearchResults(text, ranked_groups(groups, request), total, len(per_episode) or len(groups),
                         facet_values(counts, labels, request), suggestion, fuzzy, page, pages)


def _aggregations(searcher: tantivy.Searcher, query: TQuery) -> tuple[dict[str, Counter], Counter]:
    """Facet counts and passages per episode over every match, in one pass."""
    spec = {name: {"terms": {"field": column, "size": 1000}} for name, column in FACETS.items()}
    spec["episode"] = {"terms": {"field": "episode_id", "size": MAX_EPISODES}}
    answer = searcher.aggregate(query, spec)
    counters = {name: Counter({bucket["key"]: bucket["doc_count"] for bucket in answer[name]["buckets"]})
                for name in spec}
    return {name: counters[name] for name in FACETS}, counters["episode"]


def _no_counts() -> tuple[dict[str, Counter], Counter]:
    return {name: Counter() for name in FACETS}, Counter()


def _person_labels(searcher: tantivy.Searcher, schema: tantivy.Schema, slugs) -> dict[str, str]:
    labels = {}
    for slug in slugs:
        hits = searcher.search(TQuery.term_query(schema, "person_slug", slug), limit=1, count=False).hits
        document = _meta(searcher, hits[0][1])[0] if hits else {}
        labels[slug] = document.get("person_name", slug)
    return labels


def _add_episode_and_chapter_hits(searcher, schema, text: str, groups: dict, hidden: frozenset[int]) -> None:
    """Episodes whose title, description or guests match, and chapters whose title matches."""
    for kind, fields in (("chapter", typed.CHAPTER_FIELDS), ("episode", typed.EPISODE_FIELDS)):
        _node, query = compile_query(text, fields, schema)
        if query is None:
            continue
        kind_only = [TQuery.term_query(schema, "kind", kind)]
        for score, address in searcher.search(_filtered(query, kind_only), limit=50, count=False).hits:
            document = _meta(searcher, address)[0]
            if int(document["episode_id"]) in hidden:
                continue
            group = result_group(groups, document)
            if kind == "chapter":
                group.chapters.append(ChapterHit(document["chapter_title"], document["start_ms"] / 1000))
            group.score = max(group.score, score)
