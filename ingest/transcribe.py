"""Speech to words with faster-whisper: French, piece by piece, guarded against what Whisper invents.

The audio is mapped once with VAD; speech is cut at pauses into pieces Whisper reads whole
(``ingest.speech_map``), pieces are grouped into chunks of a few minutes, and each finished chunk
is kept on disk (``ingest.checkpoints``) when the caller asks, so a long episode survives a crash.
The words then go through the guards (``ingest.guards``). Each word keeps its probability: the
studio underlines the doubtful ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from archive.records import Word
from archive.settings import Settings
from ingest import guards
from ingest.audio import SAMPLE_RATE, Audio
from ingest.checkpoints import Checkpoints, remove_stale
from ingest.glossary_spelling import respell
from ingest.models import load_whisper, model_info
from ingest.speech_map import MAX_PIECE, VAD_OPTIONS, Span, plan_chunks, plan_pieces, speech_spans

Progress = Callable[[float, float], None]
"""Called with the audio seconds done so far and the total."""

log = logging.getLogger(__name__)

PLAN_VERSION = 1
"""Bump when the way audio is cut or decoded changes, so old checkpoints are not mixed with new ones."""

# The decoder's own guards, at faster-whisper's documented values; each piece is decoded
# without the previous text as context, which is what stops a mistake from feeding a loop.
DECODE_OPTIONS = {
    "word_timestamps": True,
    "vad_filter": False,  # the pieces are already speech
    "condition_on_previous_text": False,
    "compression_ratio_threshold": 2.4,
    "log_prob_threshold": -1.0,
    "no_speech_threshold": 0.6,
}


def checkpoints_for(audio: Audio, settings: Settings, hotwords: str | None) -> Checkpoints:
    """Where this transcription's finished chunks go: one folder per audio and decoding choices."""
    remove_stale(settings.transcription_work_dir)
    fingerprint = {"plan": PLAN_VERSION, "model": str(model_info(settings).path), "beam": settings.beam_size,
                   "compute": settings.compute_type, "language": settings.language, "hotwords": hotwords,
                   "chunk": settings.transcription_chunk_seconds, "vad": VAD_OPTIONS, "piece": MAX_PIECE,
                   "seed": settings.random_seed}
    return Checkpoints(settings.transcription_work_dir, audio.source.sha256, fingerprint)


def prompt_tokens(settings: Settings) -> Callable[[str], int]:
    """Counts a prompt's tokens with the model's own tokenizer (Whisper reads at most 223)."""
    model = load_whisper(settings)

    def count(text: str) -> int:
        return len(model.hf_tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    return count


def transcribe(audio: Audio, settings: Settings, progress: Progress | None = None, hotwords: str | None = None,
               checkpoints: Checkpoints | None = None, glossary: Iterable[str] = ()) -> list[Word]:
    """The episode's words, in order.

    ``hotwords`` go to the decoder as a prompt; ``glossary`` terms are written the glossary's way
    afterwards (``ingest.glossary_spelling``). With ``checkpoints``, chunks already finished are
    read back, not redone.
    """
    spans = speech_spans(audio.samples)
    chunks = plan_chunks(plan_pieces(spans), settings.transcription_chunk_seconds)
    done = checkpoints.finished()[:len(chunks)] if checkpoints else []
    if checkpoints:
        checkpoints.resumed, checkpoints.total = len(done), len(chunks)
    if done:
        log.info("Reprise de la transcription après le morceau %d sur %d", len(done), len(chunks))
    words: list[Word] = [word for chunk in done for word in chunk]
    model = load_whisper(settings) if len(done) < len(chunks) else None
    for index in range(len(done), len(chunks)):
        chunk_words = _transcribe_chunk(model, audio, chunks[index], settings, hotwords, progress)
        if checkpoints:
            checkpoints.save(index, chunk_words)
        words.extend(chunk_words)
        log.info("Morceau %d sur %d transcrit", index + 1, len(chunks))
        if progress:
            progress(min(chunks[index][-1].end, audio.duration), audio.duration)
    if progress:
        progress(audio.duration, audio.duration)
    words, over_silence = guards.drop_outside_speech(words, spans)
    words, in_loops = guards.drop_loops(words)
    if over_silence or in_loops:
        log.info("Mots écartés : %d hors parole, %d en boucle", over_silence, in_loops)
    return respell(words, glossary)


def _transcribe_chunk(model, audio: Audio, pieces: list[Span], settings: Settings, hotwords: str | None,
                      progress: Progress | None) -> list[Word]:
    words: list[Word] = []
    for piece in pieces:
        words.extend(_transcribe_piece(model, audio, piece, settings, hotwords))
        if progress:
            progress(min(piece.end, audio.duration), audio.duration)
    return words


def _transcribe_piece(model, audio: Audio, piece: Span, settings: Settings, hotwords: str | None) -> list[Word]:
    """One piece read alone, as its own audio: Whisper then pads it with silence as it was trained to.

    (faster-whisper's ``clip_timestamps`` pads the features of a short clip differently and reads
    far worse, hence one call per piece.)
    """
    import ctranslate2

    # The temperature fallback samples at random: a fixed seed gives the same words for the same audio.
    ctranslate2.set_random_seed(settings.random_seed)
    first, last = int(piece.start * SAMPLE_RATE), int(piece.end * SAMPLE_RATE)
    segments, _info = model.transcribe(
        audio.samples[first:last],
        language=settings.language,
        beam_size=settings.beam_size,
        hotwords=hotwords or None,
        **DECODE_OPTIONS,
    )
    words: list[Word] = []
    for segment in segments:
        if guards.is_stock_phrase(segment.text) or guards.echoes_prompt(segment.text, hotwords):
            continue
        words.extend(Word(word.word, float(word.start) + piece.start, float(word.end) + piece.start,
                          float(word.probability)) for word in segment.words or () if word.word.strip())
    return words
