"""Word error rate as the tests and benchmarks measure it.

Both texts are normalised the same way: lower case, digits spelled out in French,
apostrophes and hyphens split words, other punctuation removed.
"""

from __future__ import annotations

import re
import unicodedata


def _spell_numbers(text: str) -> str:
    from num2words import num2words

    return re.sub(r"\d+(?:[.,]\d+)?", lambda m: " " + num2words(float(m.group().replace(",", ".")) if any(
        sep in m.group() for sep in ".,") else int(m.group()), lang="fr") + " ", text)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'").replace("œ", "oe")
    text = re.sub(r"(?<=\d)[\u00a0\u202f](?=\d{3}(?!\d))", "", text)  # "12 000" (ingest.typography) is 12000
    text = _spell_numbers(text)
    text = re.sub(r"['\-–]", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return jiwer.wer(reference, hypothesis or "∅")


def repeated_loops(text: str, min_words: int = 3, min_repeats: int = 3, max_words: int = 20) -> int:
    """How many times the output falls into a loop: the same ``min_words``+ sequence ``min_repeats``+ times in a row."""
    words = normalise(text).split()
    loops, position = 0, 0
    while position < len(words):
        longest_unit = min(max_words, (len(words) - position) // min_repeats)
        covered = 0
        for size in range(min_words, longest_unit + 1):
            unit = words[position:position + size]
            repeats = 1
            while words[position + repeats * size:position + (repeats + 1) * size] == unit:
                repeats += 1
            if repeats >= min_repeats:
                covered = size * repeats
                break
        if covered:
            loops += 1
            position += covered
        else:
            position += 1
    return loops
