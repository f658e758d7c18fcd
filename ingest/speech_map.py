"""Where the speech is, and how to cut it into pieces the recogniser reads one at a time.

Whisper reads 30 s windows. Fed a long recording as one stream, it cuts those windows in the
middle of sentences and loses words at each cut; fed pieces that start and end at pauses, it
reads each sentence whole. Silero VAD (shipped with faster-whisper) finds the speech; the pieces
are runs of speech of at most ``MAX_PIECE`` seconds, cut at the longest pause available. Pieces
are then grouped into chunks of a few minutes: the unit that is kept on disk, so that an
interrupted transcription starts again after the last finished chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.audio import SAMPLE_RATE

MAX_PIECE = 28.0
"""Seconds: under Whisper's 30 s window, so a piece is read in one pass with room for its padding."""
MIN_PIECE = 6.0
"""Seconds: a piece is not cut shorter than this when a longer pause comes later."""
# Short pauses (0.5 s) separate sentences; a generous pad keeps word onsets and endings.
VAD_OPTIONS = {"threshold": 0.5, "min_silence_duration_ms": 500, "speech_pad_ms": 300,
               "max_speech_duration_s": MAX_PIECE}


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def speech_spans(samples: np.ndarray, vad_options: dict | None = None) -> list[Span]:
    """The stretches of speech in 16 kHz mono audio, in seconds, in order."""
    return detect_speech(samples, vad_options or VAD_OPTIONS)


VAD_BLOCK_SECONDS = 300.0
"""Silero reads the audio in blocks of this length: on a whole hour it would hold about 1 GB of buffers at once."""


def detect_speech(samples: np.ndarray, vad_options: dict) -> list[Span]:
    """Silero VAD over the audio block by block; speech running across a block edge stays one span."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(**vad_options)
    block = int(VAD_BLOCK_SECONDS * SAMPLE_RATE)
    edge = (options.speech_pad_ms + 50) / 1000
    spans: list[Span] = []
    for first in range(0, len(samples), block):
        offset = first / SAMPLE_RATE
        for item in get_speech_timestamps(samples[first:first + block], options, sampling_rate=SAMPLE_RATE):
            span = Span(offset + item["start"] / SAMPLE_RATE, offset + item["end"] / SAMPLE_RATE)
            if first and spans and spans[-1].end >= offset - edge and span.start <= offset + edge:
                spans[-1] = Span(spans[-1].start, span.end)
            else:
                spans.append(span)
    return spans


def plan_pieces(spans: list[Span], max_piece: float = MAX_PIECE, min_piece: float = MIN_PIECE) -> list[Span]:
    """Group speech spans into pieces of at most ``max_piece`` seconds, cutting at the widest pause.

    A span longer than ``max_piece`` (VAD found no pause) is cut evenly; the recogniser then
    reads it as it would have anyway.
    """
    pieces: list[Span] = []
    pending: list[Span] = []
    for span in _short_spans(spans, max_piece):
        pending.append(span)
        while pending[-1].end - pending[0].start > max_piece:
            cut = _widest_pause(pending, max_piece, min_piece)
            pieces.append(Span(pending[0].start, pending[cut - 1].end))
            pending = pending[cut:]
    if pending:
        pieces.append(Span(pending[0].start, pending[-1].end))
    return pieces


def _short_spans(spans: list[Span], max_piece: float) -> list[Span]:
    result = []
    for span in spans:
        parts = max(1, int(np.ceil(span.duration / max_piece)))
        step = span.duration / parts
        result.extend(Span(span.start + i * step, span.start + (i + 1) * step) for i in range(parts))
    return result


def _widest_pause(pending: list[Span], max_piece: float, min_piece: float) -> int:
    """Index of the first span of the next piece: after the widest pause that keeps this piece short enough."""
    start = pending[0].start
    candidates = [i for i in range(1, len(pending)) if pending[i - 1].end - start <= max_piece]
    long_enough = [i for i in candidates if pending[i - 1].end - start >= min_piece] or candidates
    return max(long_enough, key=lambda i: (pending[i].start - pending[i - 1].end, i))


def plan_chunks(pieces: list[Span], chunk_seconds: float) -> list[list[Span]]:
    """Consecutive pieces grouped into chunks of about ``chunk_seconds`` of audio (never splitting a piece)."""
    chunks: list[list[Span]] = []
    current: list[Span] = []
    for piece in pieces:
        if current and piece.end - current[0].start > chunk_seconds:
            chunks.append(current)
            current = []
        current.append(piece)
    if current:
        chunks.append(current)
    return chunks

