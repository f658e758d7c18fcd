"""Group words into utterances: one speaker, about one sentence each.

Sentence-sized utterances make every search hit and every timestamp link land where the
passage starts; pages join consecutive utterances of one speaker into paragraphs.
"""

from __future__ import annotations

from dataclasses import replace

from archive.records import Turn, Utterance, Word
from ingest.typography import typeset_words

SENTENCE_ENDS = (".", "?", "!", "…")
LONG_PAUSE = 1.5  # seconds of silence that always start a new utterance
MAX_LENGTH = 30.0  # seconds; run-on speech without punctuation is cut at the next word


def speaker_at(turns: list[Turn], word: Word) -> str | None:
    """The speaker whose turn overlaps the word most (the nearest turn if none overlaps)."""
    if not turns:
        return None
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(turn.end, word.end) - max(turn.start, word.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best is None:
        middle = (word.start + word.end) / 2
        best = min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle))).speaker
    return best


def _close(words: list[Word], speaker: str | None, previous: Utterance | None = None) -> Utterance:
    """The utterance of these words, set by French typography (ingest.typography).

    Its words are re-cut from the typeset text, so they still join to it. The first letter
    is capitalised when a sentence starts here: first utterance, new speaker, or after a
    sentence end; a sentence cut by a long pause or MAX_LENGTH keeps the case Whisper gave.
    """
    sentence_start = (previous is None or previous.speaker != speaker
                      or previous.text.rstrip("\u00a0 »\"”)").endswith(SENTENCE_ENDS))
    text, pieces = typeset_words([word.text for word in words], sentence_start)
    typeset = tuple(replace(word, text=piece) for word, piece in zip(words, pieces, strict=True))
    return Utterance(speaker, words[0].start, words[-1].end, text, typeset)


def build_utterances(words: list[Word], turns: list[Turn]) -> list[Utterance]:
    result: list[Utterance] = []
    current: list[Word] = []
    current_speaker: str | None = None
    for word in words:
        speaker = speaker_at(turns, word)
        if current:
            previous = current[-1]
            starts_new = (
                speaker != current_speaker
                or previous.text.rstrip().endswith(SENTENCE_ENDS)
                or word.start - previous.end >= LONG_PAUSE
                or word.end - current[0].start > MAX_LENGTH
            )
            if starts_new:
                result.append(_close(current, current_speaker, result[-1] if result else None))
                current = []
        if not current:
            current_speaker = speaker
        current.append(word)
    if current:
        result.append(_close(current, current_speaker, result[-1] if result else None))
    return result
