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

from whoosh.qparser import AndGroup, MultifieldParser, plugins, syntax
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


class _NestedPlusMinusPlugin(plugins.PlusMinusPlugin):
    """``+`` and ``-`` inside parentheses too.

    Whoosh's plugin sorts only the top level; a ``-`` left inside ``( )`` made the whole
    parse fail, and the plain-words fallback then searched *for* the excluded word. A group
    of exclusions only, "(-budget)", is a ``Not``: Whoosh's "nothing and not budget" would
    vanish from the query and take the exclusion with it.
    """

    def do_plusminus(self, parser, group):
        for position, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[position] = self.do_plusminus(parser, node)
        sorted_group = super().do_plusminus(parser, group)
        if isinstance(sorted_group, syntax.AndNotGroup) and not sorted_group[0]:
            return syntax.NotGroup([sorted_group[1]])
        return sorted_group


def _parser(fields: list[str] | dict[str, float], group) -> MultifieldParser:
    boosts = fields if isinstance(fields, dict) else None
    parser = MultifieldParser(list(fields), _schema(), fieldboosts=boosts, group=group)
    # Field names ("titre:…") and wildcards ("*") are not for the public: typed text is text.
    for plugin_type in (plugins.FieldsPlugin, plugins.WildcardPlugin, plugins.BoostPlugin,
                        plugins.RangePlugin, plugins.FuzzyTermPlugin):
        parser.remove_plugin_class(plugin_type)
    parser.add_plugin(_NestedPlusMinusPlugin())
    return parser


def parse(text: str, fields: list[str] | dict[str, float], group=AndGroup) -> Query | None:
    """The query tree for a text, or None when it holds no searchable word; never raises.

    When the parser fails on odd input, the plain words of the text are all required and
    the words marked "-" stay excluded. A text of exclusions only ("-budget", "NOT budget")
    looks for nothing: it would otherwise match every document of the archive.
    """
    try:
        query = _parser(fields, group).parse(text)
    except Exception:  # the parser can fail on odd input; a person still gets results
        query = _plain_words(text, fields)
    if query is None or query is NullQuery or isinstance(query, Every):
        return None
    if next(positive_terms(query, field=None), None) is None:
        return None
    return _without_and_not(query)


# A word marked "-" at the start of the text, after a space or an opening parenthesis.
_EXCLUDED = re.compile(r"(?:^|(?<=[\s(]))-(\S+)")
_OPERATORS = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")


def _plain_words(text: str, fields: list[str] | dict[str, float]) -> Query | None:
    """Every plain word required, every word marked "-" excluded, in all the fields."""
    boosts = fields if isinstance(fields, dict) else dict.fromkeys(fields, 1.0)

    def anywhere(word: str) -> Query:
        return Or([Term(name, word, boost=boosts[name]) for name in boosts])

    wanted = index_terms(_OPERATORS.sub(" ", _EXCLUDED.sub(" ", text)))
    if not wanted:
        return None
    excluded = sorted({term for match in _EXCLUDED.finditer(text) for term in index_terms(match.group(1))})
    return And([anywhere(word) for word in wanted] + [Not(anywhere(word)) for word in excluded])


def _without_and_not(node: Query) -> Query:
    """``a AndNot b`` written ``a And (Not b)``, which means the same.

    Whoosh 2.7.5's AndNot matcher misses an excluded passage when the excluded word's
    first passage comes before the wanted word's first one ("habitants -budget" then
    still showed a passage about the budget).
    """
    if isinstance(node, AndNot):
        return And([_without_and_not(node.a), Not(_without_and_not(node.b))])
    return node.apply(_without_and_not)


def positive_terms(query: Query, field: str | None = "text") -> Iterator[str]:
    """The terms a document is found by (not the excluded ones): the words its snippet highlights.

    ``field=None`` gives the wanted terms of every field.
    """
    if isinstance(query, Not):
        return
    if isinstance(query, AndNot):
        yield from positive_terms(query.a, field)
    elif isinstance(query, Term):
        if field is None or query.fieldname == field:
            yield query.text
    elif isinstance(query, Phrase):
        if field is None or query.fieldname == field:
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


def excluded_parts(query: Query | None) -> list[Query]:
    """The ``Not`` nodes of a query tree: what the person ruled out, wherever it was written."""
    if query is None:
        return []
    if isinstance(query, Not):
        return [query]
    return [part for child in query.children() for part in excluded_parts(child)]


def fuzzy_query(text: str, vocabulary: Vocabulary, parsed: Query | None = None) -> Query | None:
    """Every word may be a little misspelt, matched against the archive's real words.

    Typos are matched on whole words, then each word found is searched by its stem:
    "recrutemnt" finds "recrutement", hence "recrutés" too. What ``parsed`` (the exact
    query of the same text) excludes stays excluded: a loose search must not bring back
    the passages the person ruled out.
    """
    ruled_out = excluded_parts(parsed)
    banned = {term for part in ruled_out for term in positive_terms(part.query, field=None)}
    groups = []
    for word in query_words(text):
        if banned & set(index_terms(word)):
            continue
        near = nearest(word, vocabulary, allowed_distance(word))
        # A word is never dropped: when no close word gives a term, it is searched as typed.
        stems = sorted({term for candidate in near for term in index_terms(candidate)}) or index_terms(word)
        if stems:
            groups.append(Or([Term("text", stem) for stem in stems]))
    return And(groups + ruled_out) if groups else None


def suggestion(text: str, vocabulary: Vocabulary) -> str | None:
    """The text with each unknown word replaced by the closest word of the archive, if any changed.

    Only the words change: quotes, "-" and "OR" stay where they were, so following the
    suggestion asks the same question, spelt right. Stop words are not searched, so they
    are never "corrected" ("sans" is not a typo of "sens").
    """
    changed = False

    def corrected(match: re.Match) -> str:
        nonlocal changed
        word = match.group()
        folded = fold(word)
        if len(folded) > 2 and folded not in FRENCH_STOP_WORDS and not vocabulary.frequency(folded):
            proposals = nearest(folded, vocabulary, 2)
            if proposals:
                changed = True
                return proposals[0]
        return word

    proposed = re.sub(r"\w+", corrected, text)
    return " ".join(proposed.split()) if changed else None
