"""The speech-recognition configurations that bench/asr.py compares.

Each one is a set of faster-whisper arguments (model constructor, ``transcribe()``, and
optionally the batched pipeline). ``parole (actuel)`` is not a copy of those arguments: the
benchmark calls ``ingest.transcribe.transcribe`` itself, so that row is what Parole does today
even after the code changes. The variants start from ``PAROLE_OPTIONS`` and change one thing, so
each row answers one question (beam width, threads, guards, VAD, prompt, batching).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.settings import Settings

_SETTINGS = Settings()

PEER = "faster-whisper (défauts)"
PAROLE = "parole (actuel)"

# What ingest/transcribe.py passes today; the variants below change one thing each.
PAROLE_MODEL = {"device": "cpu", "compute_type": _SETTINGS.compute_type, "cpu_threads": _SETTINGS.cpu_threads,
                "local_files_only": True}
PAROLE_OPTIONS = {
    "language": _SETTINGS.language,
    "beam_size": _SETTINGS.beam_size,
    "word_timestamps": True,
    "vad_filter": True,
    "vad_parameters": {"min_silence_duration_ms": 500, "speech_pad_ms": 300},
    "condition_on_previous_text": False,
}

# Programme vocabulary: words a base model tends to miss in this programme's interviews.
FRENCH_PROMPT = ("Émission La parole est à vous : agents territoriaux, communes, intercommunalité, "
                 "médiathèque, services techniques, conseil municipal.")
HOTWORDS = "La parole est à vous, agents territoriaux, collectivité, intercommunale, médiathèque, voirie"


@dataclass(frozen=True)
class AsrConfig:
    name: str
    summary: str
    model_options: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    batch_size: int | None = None
    """With a batch size, decoding goes through ``BatchedInferencePipeline`` instead of sequential windows."""
    calls_parole: bool = False
    """Run ``ingest.transcribe.transcribe`` itself rather than ``options``."""


def _parole_with(name: str, summary: str, batch_size: int | None = None, model: dict | None = None,
                 **changes) -> AsrConfig:
    return AsrConfig(name, summary, {**PAROLE_MODEL, **(model or {})}, {**PAROLE_OPTIONS, **changes}, batch_size)


CONFIGS: list[AsrConfig] = [
    AsrConfig(PEER, "WhisperModel(dossier) sans autre argument ; transcribe(language='fr') seul",
              options={"language": _SETTINGS.language}),
    AsrConfig(PAROLE, "ingest.transcribe.transcribe tel quel (int8, faisceau 5, morceaux de 28 s aux pauses, gardes)",
              PAROLE_MODEL, PAROLE_OPTIONS, calls_parole=True),
    _parole_with("faisceau 1", "parole avec beam_size=1", beam_size=1),
    _parole_with("1 fil", "parole avec cpu_threads=1", model={"cpu_threads": 1}),
    _parole_with("2 fils", "parole avec cpu_threads=2", model={"cpu_threads": 2}),
    _parole_with("seuils stricts", "parole + compression 2,0, log-prob -0,8, non-parole 0,5, silence halluciné 2 s",
                 compression_ratio_threshold=2.0, log_prob_threshold=-0.8, no_speech_threshold=0.5,
                 hallucination_silence_threshold=2.0),
    _parole_with("VAD réglée", "parole avec VAD seuil 0,35, silence min 1000 ms, marge 400 ms",
                 vad_parameters={"threshold": 0.35, "min_silence_duration_ms": 1000, "speech_pad_ms": 400}),
    _parole_with("invite française", "parole + initial_prompt (vocabulaire de l'émission)",
                 initial_prompt=FRENCH_PROMPT),
    _parole_with("hotwords", "parole + hotwords (vocabulaire de l'émission)", hotwords=HOTWORDS),
    _parole_with("lots de 4", "parole via BatchedInferencePipeline, batch_size=4", batch_size=4),
    _parole_with("lots de 8", "parole via BatchedInferencePipeline, batch_size=8", batch_size=8),
    _parole_with("lots de 8 + faisceau 1", "parole via BatchedInferencePipeline, batch_size=8, beam_size=1",
                 batch_size=8, beam_size=1),
]
"""The full run, peer first."""

QUICK = [PEER, PAROLE]

BY_NAME = {config.name: config for config in CONFIGS}
