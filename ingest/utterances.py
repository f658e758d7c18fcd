"""Group words into utterances: one speaker, about one sentence each.

Sentence-sized utterances make every search hit and every timestamp link land where the
passage starts; pages join consecutive utterances of one speaker into paragraphs.
"""

from __future__ import annotations

from archive.records import Turn, Utterance, Word

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


def _close(words: list[Word], speaker: str | None) -> Utterance:
    text = "".join(word.text for word in words).strip()
    return Utterance(speaker, words[0].start, words[-1].end, text, tuple(words))


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
                result.append(_close(current, current_speaker))
                current = []
        if not current:
            current_speaker = speaker
        current.append(word)
    if current:
        result.append(_close(current, current_speaker))
    return result
