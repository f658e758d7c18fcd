"""The ingest pipeline: audio file in, stored and indexed episode out.

Each stage is a plain function over plain data, so a stage can be replaced or run in a
worker without touching the others:
decode → transcribe → diarize → utterances → topics → store (one transaction) + index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archive.records import EpisodeMeta
from archive.settings import Settings
from archive.store import Archive, SavedEpisode
from ingest.audio import load_audio
from ingest.diarize import SpeakerCount, diarize
from ingest.glossary import episode_terms, hotwords_for, read_glossary
from ingest.topics import chapters
from ingest.transcribe import Progress, checkpoints_for, prompt_tokens, transcribe
from ingest.utterances import build_utterances

StageListener = Callable[[str], None]
"""Told the name of each stage as it starts (for progress displays and job records)."""


@dataclass(frozen=True)
class IngestResult:
    episode: SavedEpisode
    duration: float
    utterance_count: int = 0
    speaker_count: int = 0
    chapter_count: int = 0
    notices: tuple[str, ...] = ()
    stage_seconds: tuple[tuple[str, float], ...] = ()


def ingest_file(
    path: Path,
    meta: EpisodeMeta,
    archive: Archive,
    settings: Settings,
    on_stage: StageListener | None = None,
    on_progress: Progress | None = None,
    speakers: SpeakerCount = SpeakerCount(),
    chapter_count: int | None = None,
) -> IngestResult:
    timings: list[tuple[str, float]] = []
    started = [time.perf_counter()]

    def stage(name: str) -> None:
        now = time.perf_counter()
        if timings:
            timings[-1] = (timings[-1][0], now - started[0])
        timings.append((name, 0.0))
        started[0] = now
        if on_stage:
            on_stage(name)

    stage("décodage")
    audio = load_audio(Path(path))
    existing = archive.find_by_audio(audio.source.sha256)
    if existing:
        return IngestResult(existing, audio.duration)
    stage("transcription")
    terms = episode_terms(meta)
    hotwords = hotwords_for(settings, terms, include_builtin=False, count_tokens=prompt_tokens(settings))
    checkpoints = checkpoints_for(audio, settings, hotwords)
    words = transcribe(audio, settings, on_progress, hotwords, checkpoints, [*terms, *read_glossary(settings)])
    stage("locuteurs")
    diarization = diarize(audio, words, speakers)
    utterances = build_utterances(words, diarization.turns)
    notices = []
    if checkpoints.resumed:
        notices.append(f"Transcription reprise après le morceau {checkpoints.resumed} sur {checkpoints.total} "
                       "(les morceaux déjà transcrits ont été gardés).")
    if not words:
        notices.append("Aucune parole détectée : l'épisode n'a ni locuteur ni transcription." if not diarization.turns
                       else "Aucun mot reconnu : l'épisode est enregistré sans transcription.")
    stage("chapitres")
    parts = chapters(utterances, audio.duration, settings.chapter_min_share, chapter_count)
    stage("indexation")
    saved = archive.save_episode(meta, audio.source, utterances, diarization.voices, parts)
    checkpoints.discard()
    timings[-1] = (timings[-1][0], time.perf_counter() - started[0])
    return IngestResult(saved, audio.duration, len(utterances), len(diarization.voices), len(parts),
                        tuple(notices), tuple(timings))
