"""French text analysis for the search index.

Listeners type without accents ("collectivite"), in the singular or plural, with
"œ" or "oe": all of these must meet the same indexed term. The order matters: accents
are folded *before* stemming (the stemmer treats "é" and "e" differently), and the stop
list is folded the same way so that it still matches.
"""

from __future__ import annotations

import unicodedata

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


class PluralFilter(Filter):
    """Strips a final s or x from longer words, so "élus" and "élu" meet before stemming."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if len(text) > 3 and text[-1] in "sx":
                token.text = text[:-1]
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
