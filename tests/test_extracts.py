"""Extracts of an episode (``extrait.mp3?debut=&fin=``) and the plain-text transcript, from a real server."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from archive.records import EpisodeMeta, Guest, SourceAudio, Utterance, Voice
from archive.settings import Settings
from archive.store import Archive
from feeds.timefmt import hhmmss
from ingest.audio import file_sha256
from ingest.podcast_audio import ffmpeg_binary
from ingest.synth import INTERVIEW, Synthesis, synthesize
from tests.helpers import Server, start_server

LABELS = {"host": "SPEAKER_1", "guest1": "SPEAKER_2"}
NAMES = {"host": "Camila Masetti", "guest1": "Jo Spiegel"}


@dataclass
class Served:
    data: Path
    server: Server
    slug: str
    sha256: str
    synthesis: Synthesis

    def extract(self, query: str, **headers: str) -> httpx.Response:
        return httpx.get(f"{self.server.base_url}/episodes/{self.slug}/extrait.mp3?{query}", headers=headers,
                         timeout=60)

    def cache_file(self, start_ms: int, end_ms: int) -> Path:
        return self.data / "cache" / "extraits" / f"{self.sha256}-{start_ms}-{end_ms}.mp3"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    """One episode (four synthesized turns, about 23 s) saved without the speech model, served for real."""
    data = tmp_path_factory.mktemp("extraits")
    synthesis = synthesize(INTERVIEW[:4])
    audio = synthesis.write_wav(data / "entretien.wav")
    utterances = [Utterance(LABELS[turn.voice], turn.start, turn.end, turn.text) for turn in synthesis.turns]
    rng = np.random.default_rng(8)
    voices = [Voice(label, tuple(rng.standard_normal(8)), 10.0) for label in LABELS.values()]
    meta = EpisodeMeta("La participation citoyenne", "Un directeur des services techniques raconte.",
                       dt.date(2026, 3, 12), (Guest("Jo Spiegel", "directeur des services techniques"),))
    sha256 = file_sha256(audio)
    store = Archive(Settings(data_dir=data))
    saved = store.save_episode(meta, SourceAudio(audio, sha256, "wav", "audio/wav", synthesis.duration),
                               utterances, voices)
    store.name_speaker(saved.id, LABELS["host"], NAMES["host"], "animatrice", host=True)
    store.name_speaker(saved.id, LABELS["guest1"], NAMES["guest1"], "directeur des services techniques")
    store.close()
    server = start_server(data)
    yield Served(data, server, saved.slug, sha256, synthesis)
    server.stop()


def _decoded(response: httpx.Response, folder: Path, name: str):
    """The MP3 body decoded by ffmpeg (through pydub), to measure what a player would play."""
    with warnings.catch_warnings():  # pydub warns at import when ffmpeg is not on PATH; it is given one below
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_binary()
    path = folder / name
    path.write_bytes(response.content)
    return AudioSegment.from_file(str(path), format="mp3", codec="mp3")


def test_extracts_have_the_asked_length_and_come_from_the_right_place(served, tmp_path):
    for start, end in ((5.0, 10.0), (5.0, 17.3)):
        response = served.extract(f"debut={start}&fin={end}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "audio/mpeg"
        assert response.headers["content-disposition"] == f'inline; filename="{served.slug}-{start}-{end}.mp3"'
        audio = _decoded(response, tmp_path, f"{start}-{end}.mp3")
        assert abs(len(audio) / 1000 - (end - start)) <= 0.1, len(audio)
        assert audio.frame_rate == 44_100

    # The silence between two turns comes out silent, a turn comes out loud: the cut is where it was asked.
    first, second = served.synthesis.turns[1], served.synthesis.turns[2]
    gap = served.extract(f"debut={first.end + 0.15:.1f}&fin={second.start - 0.15:.1f}")
    speech = served.extract(f"debut={second.start + 0.5:.1f}&fin={second.start + 1.5:.1f}")
    assert gap.status_code == speech.status_code == 200
    assert _decoded(gap, tmp_path, "gap.mp3").dBFS < _decoded(speech, tmp_path, "speech.mp3").dBFS - 30


def test_a_second_request_is_served_from_the_cache(served):
    first = served.extract("debut=2,04&fin=9.96")  # a French decimal comma; rounded to 2.0–10.0
    assert first.status_code == 200
    cached = served.cache_file(2000, 10000)
    assert cached.exists()
    modified = cached.stat().st_mtime_ns
    time.sleep(0.05)
    second = served.extract("debut=2&fin=10")
    assert second.status_code == 200 and second.content == first.content == cached.read_bytes()
    assert cached.stat().st_mtime_ns == modified
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_range_requests_and_head(served):
    whole = served.extract("debut=1&fin=4")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = served.extract("debut=1&fin=4", Range="bytes=100-199")
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    head = httpx.head(f"{served.server.base_url}/episodes/{served.slug}/extrait.mp3?debut=1&fin=4")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(whole.content))


@pytest.mark.parametrize(("query", "words"), [
    ("debut=0&fin=121", "120 secondes"),
    ("debut=10&fin=5", "après son début"),
    ("debut=5&fin=5", "après son début"),
    ("debut=5.01&fin=5.04", "après son début"),  # equal once rounded to a tenth
    ("debut=-1&fin=5", "négatif"),
    ("debut=10&fin=60", "dépasse la fin"),
    ("debut=abc&fin=5", "nombre de secondes"),
    ("debut=nan&fin=5", "nombre de secondes"),
    ("debut=0&fin=inf", "nombre de secondes"),
    ("debut=5", "nombre de secondes"),
])
def test_bad_bounds_are_refused_in_french(served, query, words):
    response = served.extract(query)
    assert response.status_code == 400
    assert words in response.text


def test_unknown_episodes_and_path_tricks_are_404(served):
    base = served.server.base_url
    for path in ("/episodes/inconnu/extrait.mp3?debut=0&fin=5",
                 "/episodes/..%2F..%2Fetc/extrait.mp3?debut=0&fin=5",
                 "/episodes/%2e%2e/extrait.mp3?debut=0&fin=5",
                 "/episodes/..%2Fcache/extrait.mp3?debut=0&fin=5"):
        assert httpx.get(base + path).status_code == 404, path


def test_at_most_two_encodes_run_at_once(served, monkeypatch):
    """Five different extracts asked together: two are encoded at a time, the others wait their turn."""
    from web import extracts
    from web.app import create_app

    running, peak, lock = 0, 0, threading.Lock()

    def slow_cut(source: Path, start: float, end: float, target: Path) -> Path:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"ID3 pas vraiment un MP3")
        with lock:
            running -= 1
        return target

    monkeypatch.setattr(extracts, "cut_extract", slow_cut)
    app = create_app(Settings(data_dir=served.data))

    async def ask_all() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            urls = [f"/episodes/{served.slug}/extrait.mp3?debut=0.{k}&fin=3.{k}" for k in range(1, 6)]
            return [r.status_code for r in await asyncio.gather(*(client.get(url) for url in urls))]

    try:
        # In a thread of its own: the session's Playwright browser, if started, runs a loop in this one.
        with ThreadPoolExecutor(1) as thread:
            assert thread.submit(asyncio.run, ask_all()).result() == [200] * 5
    finally:
        app.state.archive.close()
        for k in range(1, 6):
            served.cache_file(k * 100, 3000 + k * 100).unlink(missing_ok=True)
    assert peak == 2


def test_plain_text_transcript(served):
    response = httpx.get(f"{served.server.base_url}/episodes/{served.slug}/transcript.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    text = response.text
    assert "<" not in text and all(name in text for name in NAMES.values())
    assert text.startswith("Transcription – La participation citoyenne\n\n")
    paragraphs = text.rstrip("\n").split("\n\n")[1:]
    assert paragraphs == [f"[{hhmmss(int(turn.start))}] {NAMES[turn.voice]} : {turn.text}"
                          for turn in served.synthesis.turns]


def test_the_extract_cache_keeps_only_the_newest_files(tmp_path):
    import os

    from web.extracts import trim_cache

    for number in range(6):
        path = tmp_path / f"e{number}.mp3"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + number, 1_000_000 + number))
    trim_cache(tmp_path, limit=4)
    assert sorted(p.name for p in tmp_path.glob("*.mp3")) == ["e3.mp3", "e4.mp3", "e5.mp3"]
