"""French text analysis for the search index.

Listeners type without accents ("collectivite"), in the singular or plural, with
"œ" or "oe": all of these must meet the same indexed term. The order matters: accents
are folded *before* stemming (the stemmer treats "é" and "e" differently), and the stop
list is folded the same way so that it still matches.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang.stopwords import stoplists
from whoosh.support.charset import accent_map

# Speech fillers and a few words Whoosh's list lacks.
_EXTRA_STOP_WORDS = {"les", "euh", "hein", "ben", "bah", "bon", "ouais", "hum", "alors", "voila", "donc"}


def fold(text: str) -> str:
    """Lower case without accents, "œ" written "oe": the form queries and index share."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


FRENCH_STOP_WORDS = frozenset(fold(word) for word in set(stoplists["fr"]) | _EXTRA_STOP_WORDS)

_charset = dict(accent_map)
_charset.update({ord("œ"): "oe", ord("Œ"): "oe", ord("æ"): "ae", ord("Æ"): "ae"})


def singular(word: str) -> str:
    """A longer word without its final s or x, so "élus" and "élu" meet before stemming."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


class PluralFilter(Filter):
    """Strips a final s or x from longer words (see ``singular``).

    It ignores Whoosh's ``no_morph``, so the Whoosh spelling vocabulary holds words in this
    singular form too ("moi" for "mois"): look words up there through ``singular``.
    """

    def __call__(self, tokens):
        for token in tokens:
            token.text = singular(token.text)
            yield token


def french_analyzer():
    return (
        RegexTokenizer(r"\w+")
        | LowercaseFilter()
        | CharsetFilter(_charset)
        | StopFilter(stoplist=FRENCH_STOP_WORDS, minsize=2)
        | PluralFilter()
        | StemFilter(lang="fr")
    )


_ANALYZER = french_analyzer()
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=200_000)
def word_term(word: str) -> str | None:
    """The indexed term of one word, or None for a stop word.

    Every filter of the analyser works word by word, so a text's terms are its words'
    terms; remembering them makes snippets and the tantivy index several times faster.
    """
    terms = [token.text for token in _ANALYZER(word)]
    return terms[0] if terms else None


def index_terms(text: str) -> list[str]:
    """The terms a text is indexed under, in order (stop words dropped, positions closed up)."""
    return [term for word in _WORD.findall(text) if (term := word_term(word)) is not None]


def term_spans(text: str) -> list[tuple[str, int, int]]:
    """Each indexed term of a text with the characters it was read from: what snippets highlight."""
    return [(term, match.start(), match.end()) for match in _WORD.finditer(text)
            if (term := word_term(match.group())) is not None]
