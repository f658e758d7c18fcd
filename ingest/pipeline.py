"""The ingest pipeline: audio file in, stored and indexed episode out.

Each stage is a plain function over plain data, so a stage can be replaced or run in a
worker without touching the others:
decode → transcribe → diarize → utterances → store (one transaction) + index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archive.records import EpisodeMeta
from archive.settings import Settings
from archive.store import Archive, SavedEpisode
from ingest.audio import load_audio
from ingest.diarize import diarize
from ingest.transcribe import Progress, transcribe
from ingest.utterances import build_utterances

StageListener = Callable[[str], None]
"""Told the name of each stage as it starts (for progress displays and job records)."""


@dataclass(frozen=True)
class IngestResult:
    episode: SavedEpisode
    duration: float
    utterance_count: int


def ingest_file(
    path: Path,
    meta: EpisodeMeta,
    archive: Archive,
    settings: Settings,
    on_stage: StageListener | None = None,
    on_progress: Progress | None = None,
) -> IngestResult:
    stage = on_stage or (lambda name: None)
    stage("décodage")
    audio = load_audio(Path(path))
    existing = archive.find_by_audio(audio.source.sha256)
    if existing:
        return IngestResult(existing, audio.duration, 0)
    stage("transcription")
    words = transcribe(audio, settings, on_progress)
    stage("locuteurs")
    turns = diarize(audio, words)
    utterances = build_utterances(words, turns)
    stage("indexation")
    saved = archive.save_episode(meta, audio.source, utterances)
    return IngestResult(saved, audio.duration, len(utterances))
