"""The podcast feed and the transcript files apps read."""

from __future__ import annotations

import feedparser
import httpx

from archive.media import media_path

PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def test_feed_parses_cleanly_with_an_exact_enclosure(served_archive):
    response = httpx.get(served_archive.url + "/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "La parole est à vous"
    assert feed.feed.language == "fr"
    (entry,) = feed.entries
    enclosure = entry.enclosures[0]
    settings = served_archive.settings
    stored = media_path(settings.media_dir, _episode(served_archive)["sha"], "wav")
    assert int(enclosure["length"]) == stored.stat().st_size
    assert enclosure["type"] == "audio/wav"
    assert enclosure["href"].startswith(served_archive.url + "/")
    assert httpx.head(enclosure["href"]).status_code == 200
    assert entry.itunes_duration.count(":") == 2
    assert b"<itunes:explicit>false</itunes:explicit>" in response.content


def test_feed_links_both_transcripts(served_archive):
    text = httpx.get(served_archive.url + "/feed.xml").text
    base = f"{served_archive.url}/episodes/{served_archive.slug}"
    assert f'<podcast:transcript url="{base}/transcript.vtt" type="text/vtt" language="fr" rel="captions"/>' in text
    assert f'<podcast:transcript url="{base}/transcript.json" type="application/json" language="fr"/>' in text
    assert f'xmlns:podcast="{PODCAST_NS}"' in text


def test_json_transcript_segments_cover_the_audio_in_order(served_archive):
    response = httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}/transcript.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    assert data["version"] == "1.0.0"
    segments = data["segments"]
    assert segments and all({"startTime", "endTime", "body"} <= set(s) for s in segments)
    starts = [s["startTime"] for s in segments]
    assert starts == sorted(starts)
    assert all(s["endTime"] >= s["startTime"] for s in segments)
    assert all(a["endTime"] <= b["startTime"] + 0.05 for a, b in zip(segments, segments[1:], strict=False))
    turns = served_archive.synthesis.turns
    assert segments[0]["startTime"] <= turns[0].start + 2
    assert segments[-1]["endTime"] >= turns[-1].end - 3


def test_vtt_transcript(served_archive):
    response = httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}/transcript.vtt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/vtt")
    assert response.text.startswith("WEBVTT\n")
    assert " --> " in response.text


def _episode(served_archive) -> dict:
    from archive.db import Database
    from archive.models import Episode

    database = Database(served_archive.settings)
    with database.session() as session:
        episode = session.query(Episode).one()
        result = {"sha": episode.audio_sha256}
    database.dispose()
    return result
