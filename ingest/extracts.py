"""Cut a passage out of an episode's audio as a small MP3, for quoting or sharing it.

Pure: a source file, two times, a target file; nothing about the archive or the web. The
MP3 is made with pydub and the same ffmpeg binary and decoder table as the podcast file.
A WAV source is read with the standard ``wave`` module,
which seeks straight to the passage instead of loading the whole recording. Other formats
go through ffmpeg (pydub's ``start_second``/``duration``): it decodes from the file's start
and discards up to the passage, which is exact for every format (VBR MP3 included, where a
seek by byte offset would land off time), and stops decoding at the passage's end.
The target is written under a temporary name, then renamed, so a reader (or a crash)
never sees half an MP3 under the real name.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.podcast_audio import BITRATE, CODECS, ffmpeg_binary

if TYPE_CHECKING:
    from pydub import AudioSegment

SAMPLE_RATE = 44_100  # what every player expects of an MP3, whatever the original's rate


class ExtractError(Exception):
    """The passage could not be read or encoded (missing codec, damaged file)."""


def _pydub() -> type[AudioSegment]:
    """pydub's AudioSegment, told which ffmpeg to use (it warns at import when none is on PATH)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_binary()
    return AudioSegment


def _read_wav(source: Path, start: float, end: float) -> AudioSegment | None:
    """Only the passage's frames of a PCM WAV; None when ``wave`` cannot read the file (float, extensible)."""
    segment_class = _pydub()
    try:
        with wave.open(str(source), "rb") as wav:
            rate, total = wav.getframerate(), wav.getnframes()
            first = min(round(start * rate), total)
            wav.setpos(first)
            data = wav.readframes(min(round(end * rate), total) - first)
            return segment_class(data=data, sample_width=wav.getsampwidth(), frame_rate=rate,
                                 channels=wav.getnchannels())
    except (wave.Error, EOFError):
        return None


def _read_any(source: Path, start: float, end: float) -> AudioSegment:
    """The passage decoded by ffmpeg; format and decoder named, since there is no ffprobe to guess them."""
    extension = source.suffix.lower().lstrip(".")
    return _pydub().from_file(str(source), format="ogg" if extension in ("opus", "oga") else extension,
                              codec=CODECS.get(extension), start_second=start, duration=end - start)


def _read(source: Path, start: float, end: float) -> AudioSegment:
    """The passage, by the cheapest exact way the file allows."""
    wav = _read_wav(source, start, end) if source.suffix.lower() == ".wav" else None
    return wav if wav is not None else _read_any(source, start, end)


def _encode(source: Path, start: float, end: float, target: str) -> None:
    """Read the passage and write it as MP3 to ``target``; decoding or encoding trouble is an ExtractError."""
    _pydub()  # imports pydub quietly before its exceptions module
    from pydub.exceptions import CouldntDecodeError, CouldntEncodeError

    try:
        segment = _read(source, start, end)
        if len(segment) == 0:
            raise ExtractError("empty passage")
        segment.export(target, format="mp3", bitrate=BITRATE, parameters=["-ar", str(SAMPLE_RATE)])
    except (OSError, CouldntDecodeError, CouldntEncodeError) as error:
        raise ExtractError(str(error)) from error


def cut_extract(source: Path, start: float, end: float, target: Path) -> Path:
    """Write ``target``: the passage ``start``–``end`` (seconds) of ``source`` as MP3, 44.1 kHz, 128 kb/s."""
    if not 0 <= start < end:
        raise ValueError(f"invalid passage: {start}–{end}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # One name per process and thread: two requests for the same passage never write the same file.
    temporary = str(target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"))
    try:
        _encode(Path(source), start, end, temporary)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return target
