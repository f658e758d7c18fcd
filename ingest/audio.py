"""Decode and check an audio file before anything is stored.

Decoding goes through PyAV (bundled with faster-whisper), so no system ffmpeg is
needed. Every way a file can be bad ends in an ``AudioError`` with a French message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.media import file_sha256
from archive.records import SourceAudio

SAMPLE_RATE = 16_000
MIME_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
}
SUPPORTED = ", ".join(sorted(MIME_TYPES))


class AudioError(Exception):
    """The file cannot be used as an episode; the message says why, in French."""


@dataclass(frozen=True)
class Audio:
    source: SourceAudio
    samples: np.ndarray  # float32 mono at SAMPLE_RATE

    @property
    def duration(self) -> float:
        return self.source.duration


def check_file(path: Path) -> str:
    """Cheap checks before decoding; returns the normalised extension."""
    if not path.exists():
        raise AudioError(f"Fichier introuvable : {path}")
    if not path.is_file():
        raise AudioError(f"Ce n'est pas un fichier : {path}")
    extension = path.suffix.lower().lstrip(".")
    if extension not in MIME_TYPES:
        raise AudioError(f"Format non pris en charge : « .{extension} ». Formats acceptés : {SUPPORTED}.")
    if path.stat().st_size == 0:
        raise AudioError(f"Le fichier est vide : {path}")
    return extension


def _declared_duration(path: Path) -> float | None:
    """What the container says the audio lasts, when it says anything."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return container.duration / 1_000_000
    return None


def load_audio(path: Path) -> Audio:
    """Decode to 16 kHz mono and refuse files that are empty, not audio, or truncated."""
    import av
    from faster_whisper.audio import decode_audio

    path = Path(path)
    extension = check_file(path)
    try:
        declared = _declared_duration(path)
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.error.FFmpegError, IndexError, ValueError, OSError) as error:
        raise AudioError(
            f"Fichier audio illisible ({path.name}) : ce n'est pas un fichier {extension} valide."
        ) from error
    duration = len(samples) / SAMPLE_RATE
    if duration < 0.1:
        raise AudioError(f"Le fichier ne contient pas de son exploitable : {path.name}")
    if declared and duration < declared * 0.9 - 0.5:
        raise AudioError(
            f"Fichier audio tronqué ({path.name}) : {duration:.1f} s lisibles sur {declared:.1f} s annoncées."
        )
    source = SourceAudio(path, file_sha256(path), extension, MIME_TYPES[extension], duration)
    return Audio(source, samples)


def probe_audio(path: Path, seconds: float = 5.0) -> float:
    """Check by content that a file is audio, decoding only its first seconds; returns the declared duration.

    For uploads: a renamed text file or a broken header is refused at once, in the web
    process, without decoding a whole hour of audio there.
    """
    import av

    path = Path(path)
    extension = check_file(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"Aucune piste audio dans {path.name}.")
            stream = container.streams.audio[0]
            decoded = 0.0
            for frame in container.decode(stream):
                decoded += frame.samples / (frame.sample_rate or SAMPLE_RATE)
                if decoded >= seconds:
                    break
            declared = _declared_duration(path) or decoded
    except (av.error.FFmpegError, IndexError, ValueError, OSError) as error:
        raise AudioError(
            f"Fichier audio illisible ({path.name}) : ce n'est pas un fichier {extension} valide."
        ) from error
    if decoded < 0.1:
        raise AudioError(f"Le fichier ne contient pas de son exploitable : {path.name}")
    return declared
