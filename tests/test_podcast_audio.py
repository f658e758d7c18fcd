"""The MP3 podcast apps download: 128 kb/s, loudness near -16 LUFS, ID3 tags."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

from ingest.podcast_audio import encode_podcast_mp3, ffmpeg_binary
from ingest.synth import INTERVIEW, synthesize


def test_mp3_has_tags_bitrate_and_even_loudness(tmp_path):
    source = synthesize(INTERVIEW[:3]).write_wav(tmp_path / "entretien.wav")
    quiet = tmp_path / "calme.wav"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(source), "-af", "volume=-18dB", str(quiet)], check=True)
    loudness = {}
    for name, audio in (("normal", source), ("calme", quiet)):
        out = encode_podcast_mp3(audio, tmp_path / f"{name}.mp3", "L'atelier <b>numérique</b>",
                                 "La parole est à vous", dt.date(2026, 3, 12), 7)
        assert out.read_bytes()[:3] == b"ID3"
        probe = subprocess.run([ffmpeg_binary(), "-hide_banner", "-i", str(out), "-af", "ebur128", "-f", "null", "-"],
                               capture_output=True, text=True).stderr
        assert "title           : L'atelier <b>numérique</b>" in probe
        assert "album           : La parole est à vous" in probe and "date            : 2026-03-12" in probe
        assert re.search(r"Audio: mp3.*44100 Hz.*128 kb/s", probe)
        loudness[name] = float(re.findall(r"I:\s+(-?\d+\.\d) LUFS", probe)[-1])
    # A recording 18 dB quieter comes out at the same loudness, near the -16 LUFS target.
    assert all(-18.5 <= value <= -14.5 for value in loudness.values()), loudness
    assert abs(loudness["normal"] - loudness["calme"]) < 1.5, loudness
