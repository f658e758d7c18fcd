"""What Whisper invents, taken out: loops, words over silence, stock phrases from its training data.

Whisper was trained on subtitled videos; on silence, music or noise it can write what those
subtitles said ("Sous-titrage Société Radio-Canada", "Merci d'avoir regardé"), and once a phrase
repeats it can loop on it. The decoder's own thresholds (compression ratio, log-probability,
no-speech probability) drop most of it; these filters catch what gets through, working on words
so that every timestamp that remains is one the recogniser gave.
"""

from __future__ import annotations

import re
import unicodedata

from archive.records import Word
from ingest.speech_map import Span

LOOP_MIN_REPEATS = 3
"""A sequence of two or more words said three times in a row is a loop: one copy is kept."""
SINGLE_WORD_MIN_REPEATS = 4
"""People do say « non, non, non » : a single word is a loop from its fourth time in a row."""
LOOP_MAX_WORDS = 12
SPEECH_TOLERANCE = 0.25
"""Seconds a word may reach outside the speech found by VAD (its padding is already 0.3 s)."""

# Subtitle credits and video sign-offs Whisper is known to write over silence in French.
STOCK_PHRASES = (
    "sous-titrage société radio-canada",
    "sous-titrage st' 501",
    "sous-titrage st'501",
    "sous-titres réalisés par la communauté d'amara.org",
    "sous-titres réalisés para la communauté d'amara.org",
    "sous-titres fait par la communauté d'amara.org",
    "sous-titres par amara.org",
    "merci d'avoir regardé cette vidéo",
    "merci d'avoir regardé",
    "abonnez-vous à la chaîne",
    "n'oubliez pas de vous abonner",
    "sous-titrage fr",
)


def _key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return re.sub(r"[^\w']+", "", text)


def drop_loops(words: list[Word]) -> tuple[list[Word], int]:
    """Words with each repeated run collapsed to its first copy; also how many words were dropped."""
    keys = [_key(word.text) for word in words]
    kept: list[Word] = []
    i = 0
    while i < len(words):
        size, copies = _longest_loop(keys, i)
        kept.extend(words[i:i + size])
        i += size * copies
    return kept, len(words) - len(kept)


def _longest_loop(keys: list[str], i: int) -> tuple[int, int]:
    """(sequence length, copies in a row) of the loop starting at ``i`` covering most words, or (1, 1)."""
    best = (1, 1)
    for size in range(1, LOOP_MAX_WORDS + 1):
        pattern = keys[i:i + size]
        if len(pattern) < size or not all(pattern):
            break
        copies = 1
        while keys[i + copies * size:i + (copies + 1) * size] == pattern:
            copies += 1
        needed = SINGLE_WORD_MIN_REPEATS if size == 1 else LOOP_MIN_REPEATS
        if copies >= needed and size * copies > best[0] * best[1]:
            best = (size, copies)
    return best


def drop_outside_speech(words: list[Word], spans: list[Span]) -> tuple[list[Word], int]:
    """Words whose time lies wholly outside the speech VAD found (written over silence or noise)."""
    kept: list[Word] = []
    span_index = 0
    for word in sorted(words, key=lambda w: w.start):
        while span_index < len(spans) and spans[span_index].end + SPEECH_TOLERANCE < word.start:
            span_index += 1
        if span_index < len(spans) and spans[span_index].start - SPEECH_TOLERANCE < word.end:
            kept.append(word)
    return kept, len(words) - len(kept)


def is_stock_phrase(text: str) -> bool:
    """Whether a whole segment is one of the phrases Whisper writes over silence."""
    key = _key(text)
    return bool(key) and any(key == _key(phrase) for phrase in STOCK_PHRASES)


def echoes_prompt(text: str, hotwords: str | None) -> bool:
    """Whether a segment only repeats the glossary given as prompt (Whisper's reply to silence or noise).

    A sentence that uses one glossary term is kept; a list of three or more of them, comma after
    comma as in the prompt, is the prompt read back.
    """
    if not hotwords:
        return False
    terms = {_key(term) for term in hotwords.split(",")}
    parts = [_key(part) for part in text.split(",") if _key(part)]
    return len(parts) >= 3 and sum(part in terms for part in parts) >= 0.75 * len(parts)
