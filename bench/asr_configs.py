"""The speech-recognition configurations that bench/asr.py compares.

``parole (actuel)`` and its variants call ``ingest.transcribe.transcribe`` itself with one
setting changed (beam width, threads, a prompt), so each row answers one question about what
Parole does today. The other rows are faster-whisper arguments: the audio read as one stream
after faster-whisper's VAD (what Parole did before reading pieces cut at pauses), and the
batched pipeline, on Parole's pieces or on its own VAD chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.settings import Settings
from ingest.glossary import builtin_terms

_SETTINGS = Settings()

PEER = "faster-whisper (défauts)"
PAROLE = "parole (actuel)"

# How ingest.models loads the model.
PAROLE_MODEL = {"device": "cpu", "compute_type": _SETTINGS.compute_type, "cpu_threads": _SETTINGS.cpu_threads,
                "local_files_only": True}
# Parole's decoding options when the audio was read as one stream after faster-whisper's VAD.
ONE_STREAM_OPTIONS = {
    "language": _SETTINGS.language,
    "beam_size": _SETTINGS.beam_size,
    "word_timestamps": True,
    "vad_filter": True,
    "vad_parameters": {"min_silence_duration_ms": 500, "speech_pad_ms": 300},
    "condition_on_previous_text": False,
}


@dataclass(frozen=True)
class AsrConfig:
    name: str
    summary: str
    model_options: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    batch_size: int | None = None
    """With a batch size, decoding goes through ``BatchedInferencePipeline`` instead of sequential windows."""
    calls_parole: bool = False
    """Run ``ingest.transcribe.transcribe`` (with ``settings_changes`` and ``hotwords``) rather than ``options``."""
    settings_changes: dict = field(default_factory=dict)
    hotwords: str | None = None
    on_pieces: bool = False
    """Batched decoding of Parole's pieces (cut at pauses) instead of faster-whisper's own VAD chunks."""


def _parole_setting(name: str, summary: str, hotwords: str | None = None, **changes) -> AsrConfig:
    return AsrConfig(name, summary, PAROLE_MODEL, calls_parole=True, settings_changes=changes, hotwords=hotwords)


def _one_stream(name: str, summary: str, batch_size: int | None = None, on_pieces: bool = False,
                **changes) -> AsrConfig:
    return AsrConfig(name, summary, PAROLE_MODEL, {**ONE_STREAM_OPTIONS, **changes}, batch_size,
                     on_pieces=on_pieces)


CONFIGS: list[AsrConfig] = [
    AsrConfig(PEER, "WhisperModel(dossier) sans autre argument ; transcribe(language='fr') seul",
              options={"language": _SETTINGS.language}),
    AsrConfig(PAROLE, "ingest.transcribe tel quel : int8, faisceau 5, morceaux de 28 s au plus coupés aux pauses, "
                      "lus un à un, gardes", PAROLE_MODEL, calls_parole=True),
    _parole_setting("faisceau 1", "parole avec beam_size=1", beam_size=1),
    _parole_setting("1 fil", "parole avec cpu_threads=1", cpu_threads=1),
    _parole_setting("2 fils", "parole avec cpu_threads=2", cpu_threads=2),
    _parole_setting("vocabulaire de l'émission", "parole + hotwords : la liste livrée (ingest/data)",
                    hotwords=", ".join(builtin_terms())[:400].rsplit(",", 1)[0]),
    _one_stream("un seul flux", "réglages de Parole, mais l'audio lu d'un seul flux après la VAD de faster-whisper "
                "(Parole avant les morceaux)"),
    _one_stream("lots de 8 sur les morceaux", "BatchedInferencePipeline, batch_size=8, sur les morceaux de Parole",
                batch_size=8, on_pieces=True),
    _one_stream("lots de 8", "BatchedInferencePipeline, batch_size=8, sur les segments de sa propre VAD",
                batch_size=8),
]
"""The full run, peer first."""

QUICK = [PEER, PAROLE]

BY_NAME = {config.name: config for config in CONFIGS}
