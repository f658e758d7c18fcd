"""Split utterances into subtitle cues (shared by the WebVTT and SRT renderers).

A 40-second answer as one cue is unreadable in a podcast app, so each utterance becomes
cues of at most ``MAX_LINES`` lines of at most ``MAX_LINE`` characters, broken between
words. Cue times follow the word timestamps when there are any, otherwise the characters.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Protocol

MAX_LINE = 65
MAX_LINES = 2
# French typography (ingest/typography.py) glues "?", ":", "»" and groups of thousands to
# their word with these: a line never breaks there, and they stay in the text.
NO_BREAK = frozenset("\u00a0\u202f\u2007")  # no-break, narrow no-break, figure space
_SPACE_RUN = re.compile(r"\s+")


class Spoken(Protocol):
    start: float
    end: float
    text: str
    speaker: str | None


@dataclass(frozen=True)
class Cue:
    """One subtitle block: raw text lines (unescaped), the speaker's display name, and
    ``first`` when it opens its utterance (where SRT shows ``Name: ``). A first line may be
    empty when the ``Name: `` label leaves no room for the first word beside it."""

    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None
    first: bool


@dataclass(frozen=True)
class _Timed:
    text: str
    start: float
    end: float


def _is_text(char: str) -> bool:
    """False for control characters (other than whitespace) and Unicode noncharacters."""
    if unicodedata.category(char) == "Cc":
        return char.isspace()
    code = ord(char)
    return not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)


def _one_space(run: re.Match[str]) -> str:
    """A run of spaces as one: the first no-break space in it if any (it was put there so
    the line would not break), else an ordinary space."""
    return next((char for char in run.group() if char in NO_BREAK), " ")


def plain_text(text: str) -> str:
    """Words separated by single spaces, without control characters or noncharacters.

    A transcript file carries text, never layout: a line break in a name or a passage
    would end a WebVTT or SRT block early, and HTML forbids control characters. No-break
    spaces (``NO_BREAK``) are kept where they stand between words, so ``line_tokens`` splits
    only at the ordinary spaces.
    """
    return _SPACE_RUN.sub(_one_space, "".join(char for char in text if _is_text(char)).strip())


def line_tokens(text: str) -> list[str]:
    """The tokens a line may break between: ``plain_text`` cut at its ordinary spaces only,
    so "compris?" with U+202F before the mark, "12 000" grouped with U+202F and guillemets
    with U+00A0 inside each stay whole on their line."""
    text = plain_text(text)
    return text.split(" ") if text else []


def _visible(token: str) -> int:
    """Characters of a token that the clock counts: all but spaces, no-break ones included
    (word timestamps are matched against the text with every space left out)."""
    return sum(not char.isspace() for char in token)


def speaker_name(utterance: Spoken, speaker_names: dict[str, str] | None) -> str | None:
    """The display name for an utterance's label, on one line; an unknown label stands for itself."""
    label = utterance.speaker
    return plain_text((speaker_names or {}).get(label or "", label) or "") or None


def label_width(name: str | None) -> int:
    """Room the SRT ``Name: `` label takes on an utterance's first line (reserved in VTT too,
    so both formats get the same cues)."""
    return len(name) + 2 if name else 0


def wrap(tokens: Sequence[str], reserve: int = 0) -> list[list[int]]:
    """Greedy line breaking: token indices per line, lines of at most ``MAX_LINE`` characters
    with ``reserve`` already taken on the first one. A token too long for any line is a line
    of its own; if it does not fit beside the label, the first line is left empty."""
    lines: list[list[int]] = [[]]
    width = reserve
    for index, token in enumerate(tokens):
        added = len(token) + (1 if lines[-1] else 0)
        if width + added > MAX_LINE and (lines[-1] or width):
            lines.append([])
            width, added = 0, len(token)
        lines[-1].append(index)
        width += added
    return lines


def _words(utterance: Any) -> list[_Timed]:
    """Word timestamps in either stored shape (``[text, start, end, probability]`` lists from
    the database, ``Word`` objects from the pipeline); words without visible text are dropped."""
    timed = []
    for word in getattr(utterance, "words", None) or ():
        if isinstance(word, list | tuple):
            text, start, end = word[0], word[1], word[2]
        else:
            text, start, end = word.text, word.start, word.end
        spoken = "".join(char for char in plain_text(str(text or "")) if not char.isspace())
        if spoken and start is not None and end is not None:
            timed.append(_Timed(spoken, float(start), float(end)))
    return timed


class _Clock:
    """Maps a character offset in the utterance's text (spaces left out) to a time."""

    def __init__(self, utterance: Spoken, total: int) -> None:
        self.start, self.end, self.total = utterance.start, utterance.end, max(total, 1)
        self.words = _words(utterance)
        self.offsets = list(accumulate(len(word.text) for word in self.words))

    def _word(self, char: int) -> _Timed:
        # Same text as the words: exact; text edited since: proportional position.
        position = min(char * self.offsets[-1] // self.total, self.offsets[-1] - 1)
        return self.words[bisect_right(self.offsets, position)]

    def _share(self, char: int) -> float:
        return self.start + (self.end - self.start) * char / self.total

    def begin(self, char: int) -> float:
        """Start time of the cue whose first character is ``char``."""
        return self._word(char).start if self.words else self._share(char)

    def finish(self, char: int) -> float:
        """End time of the cue whose last character is ``char``."""
        return self._word(char).end if self.words else self._share(char + 1)


def _utterance_cues(utterance: Spoken, name: str | None, not_before: float) -> Iterator[Cue]:
    """Cues of one utterance, in order, inside its times and not before ``not_before``."""
    tokens = line_tokens(utterance.text)
    lines = wrap(tokens, label_width(name))
    offsets = [0, *accumulate(_visible(token) for token in tokens)]
    clock = _Clock(utterance, offsets[-1])
    floor, ceiling = max(utterance.start, not_before), max(utterance.end, utterance.start, not_before)
    for at in range(0, len(lines), MAX_LINES):
        group = lines[at:at + MAX_LINES]
        indices = [index for line in group for index in line]
        start = min(max(clock.begin(offsets[indices[0]]), floor), ceiling)
        end = min(max(clock.finish(offsets[indices[-1] + 1] - 1), start), ceiling)
        yield Cue(start, end, tuple(" ".join(tokens[i] for i in line) for line in group), name, at == 0)
        floor = end


def cues(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> list[Cue]:
    """All cues of a transcript, in order and never overlapping (a later utterance's cues are
    clamped after the earlier ones' end). Empty utterances give no cue."""
    result: list[Cue] = []
    for utterance in utterances:
        if not plain_text(utterance.text):
            continue
        not_before = result[-1].end if result else 0.0
        result += _utterance_cues(utterance, speaker_name(utterance, speaker_names), not_before)
    return result
