"""What a person typed, as one query tree that both search engines run.

Whoosh's query parser, with field names, wildcards, boosts and ranges switched off, turns
the text into Term / Phrase / And / Or / Not nodes whose words are already analysed the
way the index is (archive.analysis). The Whoosh engine runs the tree as it is; the tantivy
engine translates it. The fuzzy fallback and the "Vouliez-vous dire" suggestion are built
here too, each engine only telling which words its vocabulary holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from whoosh.qparser import AndGroup, MultifieldParser, plugins
from whoosh.query import And, AndNot, Every, Not, NullQuery, Or, Phrase, Query, Term
from whoosh.support.levenshtein import damerau_levenshtein

from archive.analysis import FRENCH_STOP_WORDS, fold, index_terms

MAX_QUERY_LENGTH = 500

# Where the words of a query are looked for, with their weights.
PASSAGE_FIELDS = {"text": 1.0, "chapter": 0.6, "who": 0.4}
CHAPTER_FIELDS = ["chapter_title", "keywords"]
EPISODE_FIELDS = ["title", "description", "guests"]


def clean(text: str) -> str:
    """At most 500 printable characters: longer or invisible input is not a question anyone asks."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    return "".join(ch if ch.isprintable() else " " for ch in text)


@lru_cache(maxsize=1)
def _schema():
    from archive.whoosh_index import build_schema

    return build_schema()


def _parser(fields: list[str] | dict[str, float], group) -> MultifieldParser:
    boosts = fields if isinstance(fields, dict) else None
    parser = MultifieldParser(list(fields), _schema(), fieldboosts=boosts, group=group)
    # Field names ("titre:…") and wildcards ("*") are not for the public: typed text is text.
    for plugin_type in (plugins.FieldsPlugin, plugins.WildcardPlugin, plugins.BoostPlugin,
                        plugins.RangePlugin, plugins.FuzzyTermPlugin):
        parser.remove_plugin_class(plugin_type)
    parser.add_plugin(plugins.PlusMinusPlugin())
    return parser


def parse(text: str, fields: list[str] | dict[str, float], group=AndGroup) -> Query | None:
    """The query tree for a text, or None when it holds no searchable word; never raises.

    When the parser fails on odd input, the plain words of the text are all required; a
    text of exclusions only ("-budget") looks for nothing.
    """
    try:
        query = _parser(fields, group).parse(text)
    except Exception:  # the parser can fail on odd input; a person still gets results
        query = None
    if query is None or query is NullQuery or isinstance(query, Every):
        # Words marked "-" are exclusions, never what is looked for.
        words = index_terms(re.sub(r"(?:^|\s)-\S*", " ", text))
        if not words:
            return None
        boosts = fields if isinstance(fields, dict) else dict.fromkeys(fields, 1.0)
        query = And([Or([Term(name, word, boost=boosts[name]) for name in fields]) for word in words])
    return _without_and_not(query)


def _without_and_not(node: Query) -> Query:
    """``a AndNot b`` written ``a And (Not b)``, which means the same.

    Whoosh 2.7.5's AndNot matcher misses an excluded passage when the excluded word's
    first passage comes before the wanted word's first one ("habitants -budget" then
    still showed a passage about the budget).
    """
    if isinstance(node, AndNot):
        return And([_without_and_not(node.a), Not(_without_and_not(node.b))])
    return node.apply(_without_and_not)


def positive_terms(query: Query, field: str = "text") -> Iterator[str]:
    """The terms a passage is found by (not the excluded ones): the words its snippet highlights."""
    if isinstance(query, Not):
        return
    if isinstance(query, AndNot):
        yield from positive_terms(query.a, field)
    elif isinstance(query, Term):
        if query.fieldname == field:
            yield query.text
    elif isinstance(query, Phrase):
        if query.fieldname == field:
            yield from query.words
    else:
        for child in query.children():
            yield from positive_terms(child, field)


def query_words(text: str) -> list[str]:
    """The words of a query worth correcting: folded, without stop words and single letters."""
    return [word for word in re.findall(r"\w+", fold(text)) if word not in FRENCH_STOP_WORDS and len(word) >= 2]


def allowed_distance(word: str) -> int:
    """One letter off, two for long words."""
    return 2 if len(word) >= 8 else 1


class Vocabulary:
    """The engine's side of fuzzy matching: which words the archive holds, and how often."""

    def near(self, word: str, max_distance: int) -> Iterable[str]:
        """Words of the archive that may lie within ``max_distance`` edits of ``word`` (a superset is fine)."""
        raise NotImplementedError

    def frequency(self, word: str) -> int:
        """How many passages say this exact (folded, unstemmed) word."""
        raise NotImplementedError


def nearest(word: str, vocabulary: Vocabulary, max_distance: int) -> list[str]:
    """Archive words within ``max_distance`` edits of ``word`` and starting with its letter, closest first.

    A swapped pair of letters counts as one edit; ties in distance go to the more frequent word.
    """
    scored = []
    for candidate in set(vocabulary.near(word, max_distance)):
        if candidate[:1] != word[:1] or candidate == word or abs(len(candidate) - len(word)) > max_distance:
            continue
        gap = damerau_levenshtein(word, candidate)
        if gap <= max_distance:
            scored.append((gap, -vocabulary.frequency(candidate), candidate))
    return [candidate for _gap, _frequency, candidate in sorted(scored)]


def fuzzy_query(text: str, vocabulary: Vocabulary) -> Query | None:
    """Every word may be a little misspelt, matched against the archive's real words.

    Typos are matched on whole words, then each word found is searched by its stem:
    "recrutemnt" finds "recrutement", hence "recrutés" too.
    """
    groups = []
    for word in query_words(text):
        near = nearest(word, vocabulary, allowed_distance(word)) or [word]
        stems = sorted({term for candidate in near for term in index_terms(candidate)})
        if stems:
            groups.append(Or([Term("text", stem) for stem in stems]))
    return And(groups) if groups else None


def suggestion(text: str, vocabulary: Vocabulary) -> str | None:
    """The text with each unknown word replaced by the closest word of the archive, if any changed."""
    changed, words = False, []
    for word in re.findall(r"\w+", text):
        folded = fold(word)
        if len(folded) > 2 and not vocabulary.frequency(folded):
            proposals = nearest(folded, vocabulary, 2)
            if proposals:
                words.append(proposals[0])
                changed = True
                continue
        words.append(word)
    return " ".join(words) if changed else None
