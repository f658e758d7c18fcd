"""Markup typed into titles or heard in transcripts is shown as text everywhere."""

from __future__ import annotations

import json

import feedparser
import httpx
import numpy as np

from archive.records import EpisodeMeta, Guest, SourceAudio, Utterance, Word
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import start_server, write_wav

TITLE = '"><img src=x onerror=alert(1)> {{ 7*7 }}'
SPOKEN = "<script>alert('parole')</script> la participation citoyenne"


def test_markup_is_escaped_in_pages_feed_and_files(tmp_path):
    data = tmp_path / "data"
    audio = write_wav(tmp_path / "a.wav", 0.1 * np.sin(np.arange(32_000) / 5))
    store = Archive(Settings(data_dir=data))
    words = tuple(Word(" " + w, 0.2 * i, 0.2 * i + 0.15, 0.9) for i, w in enumerate(SPOKEN.split()))
    saved = store.save_episode(
        EpisodeMeta(TITLE, description="<b>gras</b>", guests=(Guest("<i>Ana</i>", "DGS & co"),)),
        SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 2.0),
        [Utterance(None, 0.0, 1.8, SPOKEN, words)],
    )
    store.close()
    server = start_server(data)
    try:
        base = server.base_url
        pages = [httpx.get(base + "/").text, httpx.get(f"{base}/episodes/{saved.slug}").text,
                 httpx.get(base + "/recherche", params={"q": "participation"}).text]
        for page in pages:
            assert "<script>alert" not in page and "<img src=x" not in page and "<i>Ana</i>" not in page
        for page in pages[:2]:
            assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; {{ 7*7 }}" in page
        assert "&lt;script&gt;alert(&#39;parole&#39;)&lt;/script&gt;" in pages[1]
        assert "<mark" in pages[2], pages[2]
        assert "&lt;/script&gt;" in pages[2]

        feed = httpx.get(base + "/feed.xml")
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo
        assert parsed.entries[0].title == TITLE
        assert b"<img src=x" not in feed.content

        vtt = httpx.get(f"{base}/episodes/{saved.slug}/transcript.vtt").text
        assert "<script>" not in vtt and "&lt;script&gt;" in vtt
        body = json.loads(httpx.get(f"{base}/episodes/{saved.slug}/transcript.json").text)["segments"][0]["body"]
        assert body == SPOKEN  # JSON carries the text itself; apps must not render it as HTML
    finally:
        server.stop()
