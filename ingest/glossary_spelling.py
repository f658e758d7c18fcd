"""Glossary terms written the glossary's way: "C.N.F.P.T." or "c n f p t" becomes "CNFPT".

Whisper often hears an acronym or a name right but writes it letter by letter, in lower case or
cut in two ("Kingers heim"). When a run of words has exactly the letters of a glossary term,
nothing more, the run is replaced by the term; its timing spans the run, its confidence is the
run's lowest. Only exact letter matches are changed: a near miss is left for the producer, who
sees it underlined when the recogniser was unsure.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.analysis import fold
from archive.records import Word

MAX_RUN = 8
"""Words one term may have been split into (an acronym read letter by letter)."""


def _letters(text: str) -> str:
    """The letters and digits of a text, folded as the search index folds them."""
    return "".join(char for char in fold(text) if char.isalnum())


def respell(words: list[Word], terms: Iterable[str]) -> list[Word]:
    """``words`` with every run spelling a glossary term differently replaced by the term."""
    by_letters: dict[str, str] = {}
    for term in terms:
        key = _letters(term)
        if len(key) >= 3:
            by_letters.setdefault(key, term)
    if not by_letters:
        return words
    longest = max(len(key) for key in by_letters)
    result: list[Word] = []
    i = 0
    while i < len(words):
        match = _match_at(words, i, by_letters, longest)
        if match is None:
            result.append(words[i])
            i += 1
            continue
        size, term = match
        run = words[i:i + size]
        tail = _trailing_punctuation(run[-1].text, size)
        lead = " " if run[0].text.startswith(" ") else ""
        result.append(Word(f"{lead}{term}{tail}", run[0].start, run[-1].end, min(w.probability for w in run)))
        i += size
    return result


def _match_at(words: list[Word], i: int, by_letters: dict[str, str], longest: int) -> tuple[int, str] | None:
    """The longest run starting at ``i`` whose letters are a term's and whose writing differs from it."""
    letters = ""
    found = None
    for size in range(1, min(MAX_RUN, len(words) - i) + 1):
        letters += _letters(words[i + size - 1].text)
        if len(letters) > longest:
            break
        term = by_letters.get(letters)
        if term is not None:
            written = "".join(word.text for word in words[i:i + size]).strip()
            found = (size, term) if _core(written) != term else None
    return found


def _core(written: str) -> str:
    """The written run without the punctuation that follows it."""
    return written.rstrip(" .,;:!?…»)]")


def _trailing_punctuation(text: str, size: int) -> str:
    """Sentence punctuation after the run, kept; a final dot of a spelt acronym ("T.") is not a full stop."""
    stripped = text.rstrip()
    tail = stripped[len(stripped.rstrip(".,;:!?…»)]")):]
    if tail == "." and len(_letters(stripped)) == 1 and size > 1:
        return ""
    return tail
