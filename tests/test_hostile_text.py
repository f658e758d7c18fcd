"""Markup typed into titles or heard in transcripts is shown as text everywhere, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import feedparser
import httpx
import numpy as np

from archive.records import EpisodeMeta, Guest, SourceAudio, Utterance, Word
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import settings_for, start_server, use_database, write_wav

TITLE = '"><img src=x onerror=alert(1)> {{ 7*7 }}'
SPOKEN = "<script>alert('parole')</script> la participation citoyenne"


def test_markup_is_escaped_in_pages_feed_and_files(tmp_path, database_url):
    data = tmp_path / "data"
    use_database(data, database_url)
    audio = write_wav(tmp_path / "a.wav", 0.1 * np.sin(np.arange(32_000) / 5))
    store = Archive(settings_for(data))
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


def test_text_no_database_could_store_as_is_is_kept_readable(tmp_path, database_url):
    """NUL characters and over-long names: PostgreSQL refuses them outright, so both databases drop or cut them."""
    data = tmp_path / "data"
    use_database(data, database_url)
    audio = write_wav(tmp_path / "a.wav", 0.1 * np.sin(np.arange(32_000) / 7))
    store = Archive(settings_for(data))
    try:
        saved = store.save_episode(
            EpisodeMeta("Le\x00 budget " + "très " * 100, description="ligne\x00 un",
                        guests=(Guest("Ana\x00 " + "Lopez" * 60, "DGS\x00"),)),
            SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 2.0),
            [Utterance("SPEAKER_1", 0.0, 1.8, "le budget participatif", ())],
        )
        with store.db.session() as session:
            utterance_id = store.load_episode(session, saved.id).utterances[0].id
        assert store.correct_utterance(saved.id, utterance_id, "le budget\x00 voté", 1) == 2
        with store.db.session() as session:
            episode = store.load_episode(session, saved.id)
            assert episode.title.startswith("Le budget très") and len(episode.title) == 300
            assert episode.description == "ligne un"
            assert episode.people[0].person.name.startswith("Ana Lopez") and len(episode.people[0].person.name) == 200
            assert episode.people[0].person.role == "DGS"
            assert episode.utterances[0].text == "le budget voté"
    finally:
        store.close()
    server = start_server(data)
    try:
        page = httpx.get(f"{server.base_url}/episodes/{saved.slug}")
        assert page.status_code == 200 and "le budget voté" in page.text
        assert httpx.get(server.base_url + "/recherche", params={"q": "voté\x00"}).status_code == 200
    finally:
        server.stop()
