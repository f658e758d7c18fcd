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
