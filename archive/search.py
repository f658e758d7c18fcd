"""Search the index: any text a person types gives results or none, never an error.

Passages (utterances) are grouped by episode, best episode first; an episode whose
title, description or guests match shows up even when no passage does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import highlight
from whoosh.qparser import AndGroup, MultifieldParser, plugins
from whoosh.query import And, Every, NullQuery, Or, Query, Term

from archive.index import SearchIndex

MAX_QUERY_LENGTH = 500
MAX_HITS = 400
PASSAGES_PER_EPISODE = 5


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


@dataclass
class SearchResults:
    query: str
    episodes: list[EpisodeResults]
    passage_count: int

    @property
    def episode_count(self) -> int:
        return len(self.episodes)


def _parser(schema, fields: list[str]) -> MultifieldParser:
    parser = MultifieldParser(fields, schema, group=AndGroup)
    # Field names ("titre:…") and wildcards ("*") are not for the public: typed text is text.
    for plugin_type in (plugins.FieldsPlugin, plugins.WildcardPlugin, plugins.BoostPlugin,
                        plugins.RangePlugin, plugins.FuzzyTermPlugin):
        parser.remove_plugin_class(plugin_type)
    return parser


def parse_query(schema, text: str, fields: list[str]) -> Query | None:
    """Whoosh's parser with a safe fallback: the plain words of the text, all required."""
    try:
        query = _parser(schema, fields).parse(text)
    except Exception:  # the parser can fail on odd input; a person still gets results
        query = None
    if query is None or query is NullQuery or isinstance(query, Every):
        words = [token.text for token in schema["text"].analyzer(text)]
        if not words:
            return None
        query = And([Or([Term(name, word) for name in fields]) for word in words])
    return query


def _snippet(hit) -> str:
    from markupsafe import escape

    text = hit.get("text") or ""
    try:
        html = hit.highlights("text", text=text)
    except Exception:
        html = ""
    if not html:
        html = str(escape(text if len(text) <= 240 else text[:240] + " …"))
    return html


def search(index: SearchIndex, text: str, person: str | None = None) -> SearchResults:
    """Passages matching ``text`` (optionally only those spoken by the person ``person``)."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    searcher = index.searcher()
    schema = searcher.schema
    passages_query = parse_query(schema, clean, ["text"])
    episodes_query = parse_query(schema, clean, ["episode_title", "description", "guests"])
    chapters_query = parse_query(schema, clean, ["chapter", "text"])
    if passages_query is None:
        return SearchResults(text, [], 0)

    groups: dict[str, EpisodeResults] = {}
    filters = [Term("kind", "utterance")] + ([Term("person_slug", person)] if person else [])
    hits = searcher.search(And([*filters, passages_query]), limit=MAX_HITS)
    hits.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    hits.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=80)
    for hit in hits:
        group = groups.setdefault(hit["episode_id"], EpisodeResults(
            int(hit["episode_id"]), hit["slug"], hit["episode_title"], hit["date"], hit.score))
        group.passage_count += 1
        if len(group.passages) < PASSAGES_PER_EPISODE:
            group.passages.append(Passage(
                hit["doc_id"], hit["start_ms"] / 1000, hit["end_ms"] / 1000, hit.get("speaker", ""),
                hit.get("person_slug", ""), hit.get("person_role", ""), hit.get("chapter", ""), _snippet(hit),
                hit.score))
    if chapters_query is not None and not person:
        for hit in searcher.search(And([Term("kind", "chapter"), chapters_query]), limit=100):
            group = groups.setdefault(hit["episode_id"], EpisodeResults(
                int(hit["episode_id"]), hit["slug"], hit["episode_title"], hit["date"], 0.0))
            group.chapters.append(ChapterHit(hit["chapter"], hit["start_ms"] / 1000))
            group.score = max(group.score, hit.score)
    if episodes_query is not None and not person:
        for hit in searcher.search(And([Term("kind", "episode"), episodes_query]), limit=100):
            group = groups.setdefault(hit["episode_id"], EpisodeResults(
                int(hit["episode_id"]), hit["slug"], hit["episode_title"], hit["date"], 0.0))
            group.score = max(group.score, hit.score)
    ordered = sorted(groups.values(), key=lambda group: -group.score)
    return SearchResults(text, ordered, sum(group.passage_count for group in ordered))

