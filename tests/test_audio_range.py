"""Players seek by asking for byte ranges: the audio route must answer them exactly."""

from __future__ import annotations

import httpx


def test_range_request_returns_206_with_the_right_bytes(served_archive):
    url = f"{served_archive.url}/episodes/{served_archive.slug}/audio.wav"
    original = served_archive.audio.read_bytes()
    response = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.content == original[1000:2000]
    assert response.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    assert response.headers["accept-ranges"] == "bytes"

    tail = httpx.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == original[-500:]


def test_whole_file_and_out_of_range(served_archive):
    url = f"{served_archive.url}/episodes/{served_archive.slug}/audio.wav"
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == served_archive.audio.read_bytes()
    beyond = httpx.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416


def test_audio_of_unknown_episode_or_wrong_extension_is_404(served_archive):
    assert httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}/audio.mp3").status_code == 404
    assert httpx.get(f"{served_archive.url}/episodes/nope/audio.wav").status_code == 404
    assert httpx.get(f"{served_archive.url}/episodes/..%2F..%2Fetc%2Fpasswd/audio.wav").status_code == 404
