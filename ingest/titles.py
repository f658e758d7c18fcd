"""Short French chapter titles from key phrases (YAKE, offline), chosen for what sets each
chapter apart from the rest of the episode.

Spoken French is full of discourse markers ("passons maintenant", "alors", "voilà",
"effectivement") that a keyword extractor happily ranks first; they are stop-listed.
YAKE proposes candidate phrases; each is then scored by how typical its words are of
this chapter and not of the others (TF-IDF over the episode's chapters, on stems).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

MAX_TITLE = 60
DISCOURSE_MARKERS = {
    "alors", "voilà", "voila", "effectivement", "donc", "bon", "bah", "ben", "euh", "hein", "ouais", "oui", "non",
    "bref", "enfin", "ensuite", "maintenant", "passons", "parlons", "abordons", "changeons", "justement", "vraiment",
    "évidemment", "finalement", "forcément", "quand", "même", "aussi", "d'ailleurs", "ailleurs", "fait", "vous",
    "savez", "merci", "bienvenue", "bonjour", "question", "sujet", "thème", "chose", "choses", "beaucoup", "peu",
    "très", "trop", "tout", "tous", "toutes", "plus", "moins", "aujourd'hui", "exemple", "souvent", "toujours",
    "aime", "aimerais", "voudrais", "dirais", "pense", "crois", "peut", "faut", "veux", "voulez", "pouvez",
    "cette", "chaque", "année", "années", "jour", "jours", "fois", "temps", "gens", "vrai", "bien", "nous", "notre",
    "nos", "avons", "sommes", "faire", "font", "avez", "êtes", "était", "c'est", "il", "elle", "ils", "elles",
}


@lru_cache(maxsize=1)
def _extractor():
    import yake

    extractor = yake.KeywordExtractor(lan="fr", n=3, dedup_lim=0.95, top=30)
    extractor.stopword_set = set(extractor.stopword_set) | DISCOURSE_MARKERS
    return extractor


@lru_cache(maxsize=1)
def _analyzer():
    from archive.analysis import french_analyzer

    return french_analyzer()


def _stems(text: str) -> list[str]:
    return [token.text for token in _analyzer()(text) if len(token.text) > 2 and not token.text.isdigit()]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _candidates(text: str) -> list[str]:
    try:
        phrases = [phrase for phrase, _score in _extractor().extract_keywords(text)]
    except (ValueError, ZeroDivisionError):
        return []
    return [p for p in phrases if not re.search(r"\d", p)
            and not all(word.lower() in DISCOURSE_MARKERS for word in p.split())
            and not any(_elided_function_word(word) for word in p.split())]


def _elided_function_word(word: str) -> bool:
    """"n'est", "qu'on", "c'est": an elision whose second half is a grammatical word."""
    from archive.analysis import FRENCH_STOP_WORDS, fold

    head, apostrophe, tail = fold(word).replace("’", "'").partition("'")
    return bool(apostrophe) and (tail in FRENCH_STOP_WORDS or tail in {"est", "on", "il", "a", "y"})


def chapter_titles(texts: list[str], keyword_count: int = 5) -> list[tuple[str, list[str]]]:
    """A title (at most about 60 characters) and a few keywords for each chapter's text."""
    counts = [Counter(_stems(text)) for text in texts]
    documents = Counter(stem for count in counts for stem in count)
    total = len(texts)

    def weight(stem: str, count: Counter) -> float:
        return (1 + math.log(count[stem])) * (math.log((1 + total) / (1 + documents[stem])) + 1) if count[stem] else 0

    results = []
    for text, count in zip(texts, counts, strict=True):
        surface: dict[str, str] = {}
        for word in re.findall(r"[\w'’-]+", text.lower()):
            for stem in _stems(word):
                surface.setdefault(stem, word)
        best_stems = sorted(count, key=lambda stem, count=count: weight(stem, count), reverse=True)
        keywords = [surface.get(stem, stem) for stem in best_stems
                    if surface.get(stem, stem) not in DISCOURSE_MARKERS][:keyword_count]
        # YAKE's phrases, plus the chapter's most distinctive words in case YAKE merged them away.
        candidates = list(dict.fromkeys(_candidates(text) + keywords))
        if not candidates:
            results.append(("", []))
            continue

        def score(phrase: str, count: Counter = count) -> float:
            stems = _stems(phrase)
            return sum(weight(stem, count) for stem in stems) / len(stems) if stems else 0.0

        ranked = sorted(candidates, key=score, reverse=True)
        title = ranked[0]
        if " " not in title:
            # A lone word is a thin title: a good phrase around it, or the next distinctive word joined to it.
            around = next((p for p in ranked[1:] if " " in p and title.lower() in p.lower().split()
                           and score(p) >= 0.6 * score(title)), None)
            partner = next((p for p in ranked[1:6] if " " not in p and _stems(p) != _stems(title)), None)
            if around:
                title = around
            elif partner and score(partner) >= 0.6 * score(title):
                title = f"{title} et {partner}"
        if len(title) > MAX_TITLE:
            title = title[:MAX_TITLE].rsplit(" ", 1)[0]
        results.append((_capitalise(title), keywords))
    return results


def chapter_title(text: str, keyword_count: int = 5) -> tuple[str, list[str]]:
    return chapter_titles([text], keyword_count)[0]
