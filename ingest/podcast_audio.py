"""The file podcast apps download: MP3 at 128 kb/s, loudness evened out, with ID3 tags.

Made with pydub; the ffmpeg binary is the system's or, when there is none, the one the
PyPI package imageio-ffmpeg ships. That package has no ffprobe, so pydub is always told
the input's format and codec instead of probing for them. Loudness is brought to
-16 LUFS (integrated, true peak -1.5 dB), what podcast platforms recommend for speech.
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from pathlib import Path

BITRATE = "128k"
LOUDNESS_FILTER = "loudnorm=I=-16:TP=-1.5:LRA=11"
# Input format → decoder pydub must name (no ffprobe to guess it).
CODECS = {"wav": None, "mp3": "mp3", "m4a": "aac", "aac": "aac", "ogg": "vorbis", "oga": "vorbis",
          "opus": "libopus", "flac": "flac"}


def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def encode_podcast_mp3(source: Path, target: Path, title: str, programme: str, date: dt.date,
                       episode_number: int | None = None) -> Path:
    """Write ``target`` (MP3, 44.1 kHz, 128 kb/s, -16 LUFS, ID3v2.3 tags) from any supported audio file."""
    with warnings.catch_warnings():  # pydub warns at import when ffmpeg is not on PATH; we give it one below
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_binary()
    extension = Path(source).suffix.lower().lstrip(".")
    codec = CODECS.get(extension)
    audio = AudioSegment.from_file(str(source), format="ogg" if extension in ("opus", "oga") else extension,
                                   codec=codec)
    audio = audio.set_frame_rate(44_100).set_sample_width(2)
    tags = {"title": title, "album": programme, "artist": programme, "date": date.isoformat(),
            "genre": "Podcast"}
    if episode_number:
        tags["track"] = str(episode_number)
    target.parent.mkdir(parents=True, exist_ok=True)
    audio.export(str(target), format="mp3", bitrate=BITRATE, tags=tags, id3v2_version="3",
                 parameters=["-af", LOUDNESS_FILTER, "-ar", "44100"])
    return target
