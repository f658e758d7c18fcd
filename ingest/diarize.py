"""Who speaks when, offline and without torch.

Speech regions from Silero VAD (bundled with faster-whisper) → 1.5 s windows every
0.75 s → Kaldi-style filterbanks (numpy) → CAM++ voice embeddings (onnxruntime) →
spectral clustering with an automatic speaker count. Each stretch of speech goes to the
window whose centre is nearest, and speaker changes are moved to the closest pause
between words so that no word is cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archive.records import Diarization, Turn, Voice, Word
from ingest.audio import Audio
from ingest.clustering import MAX_SPEAKERS, cluster_speakers
from ingest.fbank import fbank
from ingest.speaker_model import embed
from ingest.speech_map import detect_speech

WINDOW = 1.5
HOP = 0.75
MIN_SPEECH = 0.4  # shorter regions carry too little voice to tell speakers apart
FRAMES_PER_SECOND = 100
SNAP_DISTANCE = 0.6
MERGE_GAP = 0.3


@dataclass(frozen=True)
class SpeakerCount:
    """What a producer knows of the number of speakers (all optional)."""

    exactly: int | None = None
    minimum: int = 1
    maximum: int = MAX_SPEAKERS


@dataclass(frozen=True)
class _Window:
    start: float
    end: float
    region: int

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2


# A lower threshold and short pads than the transcription's: every bit of voice counts, tightly cut.
VAD_OPTIONS = {"threshold": 0.35, "min_silence_duration_ms": 250, "speech_pad_ms": 60, "min_speech_duration_ms": 150}


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    return [(span.start, span.end) for span in detect_speech(samples, VAD_OPTIONS) if span.duration >= MIN_SPEECH]


def _windows(regions: list[tuple[float, float]]) -> list[_Window]:
    windows = []
    for index, (start, end) in enumerate(regions):
        if end - start <= WINDOW * 1.5:
            windows.append(_Window(start, end, index))
            continue
        position = start
        while position + WINDOW < end:
            windows.append(_Window(position, position + WINDOW, index))
            position += HOP
        windows.append(_Window(max(start, end - WINDOW), end, index))
    return windows


def _features(all_features: np.ndarray, window: _Window) -> np.ndarray:
    piece = all_features[int(window.start * FRAMES_PER_SECOND):int(window.end * FRAMES_PER_SECOND)]
    return piece - piece.mean(axis=0, keepdims=True)


def _pieces(windows: list[_Window], labels: np.ndarray, regions: list[tuple[float, float]]) -> list[Turn]:
    """Each moment of a region goes to the window whose centre is nearest."""
    pieces: list[Turn] = []
    for index, (start, end) in enumerate(regions):
        members = [(w, label) for w, label in zip(windows, labels, strict=True) if w.region == index]
        for position, (window, label) in enumerate(members):
            left = start if position == 0 else (members[position - 1][0].centre + window.centre) / 2
            right = end if position == len(members) - 1 else (window.centre + members[position + 1][0].centre) / 2
            pieces.append(Turn(str(label), left, right))
    return pieces


def _snap_to_pauses(pieces: list[Turn], words: list[Word]) -> list[Turn]:
    """Move each change of speaker inside continuous speech to the nearest pause between words."""
    if not words:
        return pieces
    pauses = np.array([(a.end + b.start) / 2 for a, b in zip(words, words[1:], strict=False)])
    snapped = list(pieces)
    for i in range(len(snapped) - 1):
        left, right = snapped[i], snapped[i + 1]
        if left.speaker == right.speaker or abs(left.end - right.start) > 1e-6 or len(pauses) == 0:
            continue
        nearest = float(pauses[np.argmin(np.abs(pauses - left.end))])
        if abs(nearest - left.end) <= SNAP_DISTANCE and left.start < nearest < right.end:
            snapped[i] = Turn(left.speaker, left.start, nearest)
            snapped[i + 1] = Turn(right.speaker, nearest, right.end)
    return snapped


def _merge(pieces: list[Turn]) -> list[Turn]:
    turns: list[Turn] = []
    for piece in pieces:
        if turns and turns[-1].speaker == piece.speaker and piece.start - turns[-1].end <= MERGE_GAP:
            turns[-1] = Turn(piece.speaker, turns[-1].start, piece.end)
        else:
            turns.append(piece)
    return turns


def diarize(audio: Audio, words: list[Word], count: SpeakerCount = SpeakerCount()) -> Diarization:
    """Speaker turns labelled SPEAKER_1, SPEAKER_2… in order of first appearance, with their voices."""
    regions = speech_regions(audio.samples)
    windows = _windows(regions)
    if not windows:
        return Diarization([], [])
    all_features = fbank(audio.samples, normalise=False)
    embeddings = embed([_features(all_features, w) for w in windows])
    labels = cluster_speakers(embeddings, np.array([w.end - w.start for w in windows]),
                              count.exactly, count.minimum, count.maximum)
    turns = _merge(_snap_to_pauses(_pieces(windows, labels, regions), words))

    order: dict[str, str] = {}
    for turn in turns:
        order.setdefault(turn.speaker, f"SPEAKER_{len(order) + 1}")
    turns = [Turn(order[t.speaker], t.start, t.end) for t in turns]
    voices = []
    for raw, label in order.items():
        mean = embeddings[labels == int(raw)].mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        talk = sum(t.end - t.start for t in turns if t.speaker == label)
        voices.append(Voice(label, tuple(float(x) for x in mean), talk))
    return Diarization(turns, voices)
