"""Speech to words with faster-whisper: French, word timestamps, guarded against loops."""

from __future__ import annotations

from collections.abc import Callable

from archive.records import Word
from archive.settings import Settings
from ingest.audio import Audio
from ingest.models import load_whisper

Progress = Callable[[float, float], None]
"""Called with the audio seconds done so far and the total."""

# Short silences are enough to cut speech into VAD chunks: with the default 2 s, whole
# turns run together and a hard window can be dropped as "no speech".
VAD_PARAMETERS = {"min_silence_duration_ms": 500, "speech_pad_ms": 300}


def transcribe(audio: Audio, settings: Settings, progress: Progress | None = None) -> list[Word]:
    import ctranslate2

    model = load_whisper(settings)
    # The temperature fallback samples at random: a fixed seed gives the same words for the same audio.
    ctranslate2.set_random_seed(settings.random_seed)
    segments, _info = model.transcribe(
        audio.samples,
        language=settings.language,
        beam_size=settings.beam_size,
        word_timestamps=True,
        vad_filter=True,
        vad_parameters=VAD_PARAMETERS,
        condition_on_previous_text=False,
    )
    words: list[Word] = []
    for segment in segments:
        for word in segment.words or ():
            if word.word.strip():
                words.append(Word(word.word, float(word.start), float(word.end), float(word.probability)))
        if progress:
            progress(min(float(segment.end), audio.duration), audio.duration)
    if progress:
        progress(audio.duration, audio.duration)
    return words
