"""``parole ingest-feed``: an older podcast feed comes in whole, its transcripts kept, its broken items reported.

A local HTTP server (with Range support, and a log of what it was asked) serves a feed of
four items: synthesized speech with a WebVTT transcript naming its voices, speech with no
transcript (the real speech model runs), a missing file (404) and a web page where the
audio should be.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive.db import Database
from archive.models import Episode, EpisodePerson, EpisodeSpeaker, Person, Utterance
from archive.settings import Settings
from feeds.timefmt import webvtt
from ingest.downloads import ItemError, download
from ingest.feed_import import check_location
from ingest.feed_reading import FeedError, html_to_text, parse_feed
from ingest.synth import Turn, synthesize
from ingest.transcript_files import (
    TranscriptError,
    cues_to_utterances,
    parse_json,
    parse_srt,
    parse_transcript,
    parse_vtt,
    speaker_labels,
)
from tests.conftest import make_data_dir
from tests.helpers import encode_mp3, run_parole

# -- a small web server -------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    content_type: str
    ranges: bool = True  # answer Range requests with 206
    cut_first: bool = False  # the first full download stops halfway (a dropped connection)
    served: int = 0


@dataclass
class Site:
    """A threaded HTTP server over fixed routes, logging (path, Range header, status) of each request."""

    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, str | None, int]] = field(default_factory=list)
    base_url: str = ""

    def start(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str] = {}) -> None:  # noqa: B006
                site.log.append((self.path, self.headers.get("Range"), status))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                route = site.routes.get(self.path)
                if route is None:
                    self._answer(404, b"Page introuvable", "text/plain; charset=utf-8")
                    return
                body, asked = route.body, re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if asked and route.ranges:
                    start = int(asked.group(1))
                    end = min(int(asked.group(2) or len(body) - 1), len(body) - 1)
                    if start >= len(body):
                        self._answer(416, b"", "text/plain", {"Content-Range": f"bytes */{len(body)}"})
                        return
                    self._answer(206, body[start:end + 1], route.content_type,
                                 {"Content-Range": f"bytes {start}-{end}/{len(body)}", "Accept-Ranges": "bytes"})
                    return
                route.served += 1
                if route.cut_first and route.served == 1:
                    site.log.append((self.path, None, 200))
                    self.send_response(200)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._answer(200, body, route.content_type)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests_for(self, path: str) -> list[tuple[str, str | None, int]]:
        return [entry for entry in self.log if entry[0] == path]


# -- the feed -----------------------------------------------------------------------

WITH_TRANSCRIPT = [
    Turn("host", "Bonjour et bienvenue dans La parole est à vous."),
    Turn("guest1", "Je suis maire de Kingersheim et je parle de démocratie locale."),
]
WITHOUT_TRANSCRIPT = [Turn("guest3", "Bonjour, je suis responsable des ressources humaines dans un département.")]
VOICE_NAMES = {"host": "Claire Dubois", "guest1": "Jo Spiegel"}


def vtt_for(turns) -> str:
    lines = ["WEBVTT", "", "NOTE transcription relue par la rédaction", ""]
    for number, turn in enumerate(turns, start=1):
        lines += [str(number), f"{webvtt(turn.start)} --> {webvtt(turn.end)}",
                  f"<v {VOICE_NAMES[turn.voice]}>{turn.text}</v>", ""]
    return "\n".join(lines)


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>La parole est à vous (ancien flux)</title>
  <podcast:person role="host">Claire Dubois</podcast:person>
  <item>
    <title>La démocratie locale</title>
    <guid isPermaLink="false">urn:ancien-flux:episode-1</guid>
    <pubDate>Tue, 14 May 2024 08:00:00 +0200</pubDate>
    <description><![CDATA[<p>Avec <b>Jo Spiegel</b> &amp; la rédaction.</p><script>alert("x")</script>]]></description>
    <enclosure url="{base}/audio/democratie.mp3" length="{size1}" type="audio/mpeg"/>
    <itunes:episode>1</itunes:episode>
    <itunes:season>2</itunes:season>
    <podcast:person role="guest">Jo Spiegel</podcast:person>
    <podcast:transcript url="/transcripts/democratie.html" type="text/html"/>
    <podcast:transcript url="/transcripts/democratie.vtt" type="text/vtt"/>
  </item>
  <item>
    <title>Recruter les jeunes agents</title>
    <guid>urn:ancien-flux:episode-2</guid>
    <pubDate>Tue, 11 Jun 2024 08:00:00 +0200</pubDate>
    <description>Les ressources humaines d'un département.</description>
    <enclosure url="{base}/audio/recruter.wav" length="{size2}" type="audio/wav"/>
  </item>
  <item>
    <title>Épisode perdu</title>
    <guid>urn:ancien-flux:episode-3</guid>
    <enclosure url="{base}/audio/perdu.mp3" length="1000" type="audio/mpeg"/>
  </item>
  <item>
    <title>Une page au lieu du son</title>
    <guid>urn:ancien-flux:episode-4</guid>
    <enclosure url="{base}/audio/page" length="1000" type="audio/mpeg"/>
  </item>
</channel>
</rss>
"""
SUMMARY_FIRST = "2 épisodes importés, 0 déjà présent, 2 en échec"
SUMMARY_AGAIN = "0 épisode importé, 2 déjà présents, 2 en échec"


@dataclass
class Imported:
    data: Path
    site: Site
    feed_url: str
    feed_file: Path
    vtt_texts: list[str]
    first: object  # the CompletedProcess of the first run


@pytest.fixture(scope="module")
def imported(tmp_path_factory, model_cache) -> Imported:
    folder = tmp_path_factory.mktemp("ancien-flux")
    spoken = synthesize(WITH_TRANSCRIPT)
    mp3 = encode_mp3(spoken.write_wav(folder / "democratie.wav"), folder / "democratie.mp3")
    wav = synthesize(WITHOUT_TRANSCRIPT).write_wav(folder / "recruter.wav")
    site = Site().start()
    site.routes.update({
        "/audio/democratie.mp3": Route(mp3.read_bytes(), "audio/mpeg"),
        "/audio/recruter.wav": Route(wav.read_bytes(), "audio/wav"),
        "/audio/page": Route(b"<html><body>Connexion requise</body></html>", "text/html; charset=utf-8"),
        "/transcripts/democratie.vtt": Route(vtt_for(spoken.turns).encode(), "text/vtt; charset=utf-8"),
        "/transcripts/democratie.html": Route(b"<p>ignored</p>", "text/html"),
    })
    feed = FEED.replace("{base}", site.base_url).replace("{size1}", str(mp3.stat().st_size)).replace(
        "{size2}", str(wav.stat().st_size))
    site.routes["/feed.xml"] = Route(feed.encode(), "application/rss+xml")
    feed_file = folder / "flux local.xml"
    feed_file.write_text(feed, encoding="utf-8")
    data = make_data_dir(tmp_path_factory, model_cache, "feed-import")
    first = run_parole(data, "ingest-feed", f"{site.base_url}/feed.xml")
    yield Imported(data, site, f"{site.base_url}/feed.xml", feed_file, [t.text for t in spoken.turns], first)
    site.stop()


def catalogue(data: Path) -> dict[str, dict]:
    """Each episode (by guid) as plain data, read straight from the database."""
    database = Database(Settings(data_dir=data))
    try:
        with database.session() as session:
            episodes = session.scalars(select(Episode).options(
                selectinload(Episode.utterances), selectinload(Episode.chapters),
                selectinload(Episode.speakers).selectinload(EpisodeSpeaker.person),
                selectinload(Episode.people).selectinload(EpisodePerson.person))).all()
            return {episode.guid: {
                "title": episode.title, "date": episode.date, "description": episode.description,
                "number": episode.episode_number, "season": episode.season,
                "utterances": [(u.speaker, u.text, u.words) for u in episode.utterances],
                "chapters": len(episode.chapters),
                "speakers": {v.label: v.person.name if v.person else None for v in episode.speakers},
                "people": {link.person.name: link.role for link in episode.people},
            } for episode in episodes}
    finally:
        database.dispose()


def counts(data: Path) -> dict[str, int]:
    database = Database(Settings(data_dir=data))
    try:
        with database.session() as session:
            return {table.__name__: session.scalar(select(func.count()).select_from(table))
                    for table in (Episode, Utterance, Person, EpisodePerson, EpisodeSpeaker)}
    finally:
        database.dispose()


# -- the command --------------------------------------------------------------------


def test_imports_the_feed_and_reports_broken_items_in_french(imported):
    result = imported.first
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == SUMMARY_FIRST
    assert "Échec pour « Épisode perdu » : le serveur a répondu 404" in result.stderr
    assert re.search(r"Échec pour « Une page au lieu du son » : .*« text/html » au lieu d'un fichier audio",
                     result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("transcription du flux") == 1
    assert result.stderr.count("transcription automatique") == 1

    episodes = catalogue(imported.data)
    assert set(episodes) == {"urn:ancien-flux:episode-1", "urn:ancien-flux:episode-2"}  # guids kept
    assert not [p for p in (imported.data / "downloads").rglob("*") if p.is_file()]  # nothing left behind


def test_transcript_from_the_feed_replaces_the_speech_model(imported):
    episode = catalogue(imported.data)["urn:ancien-flux:episode-1"]
    # Exactly the VTT's sentences, with no word timings: the speech model never produced these.
    assert [text for _, text, _ in episode["utterances"]] == imported.vtt_texts
    assert all(words == [] for _, _, words in episode["utterances"])
    assert [speaker for speaker, _, _ in episode["utterances"]] == ["SPEAKER_1", "SPEAKER_2"]
    assert episode["speakers"] == {"SPEAKER_1": "Claire Dubois", "SPEAKER_2": "Jo Spiegel"}
    assert episode["people"] == {"Jo Spiegel": "guest", "Claire Dubois": "host"}
    assert episode["title"] == "La démocratie locale"
    assert str(episode["date"]) == "2024-05-14"
    assert (episode["number"], episode["season"]) == (1, 2)
    assert episode["description"] == "Avec Jo Spiegel & la rédaction."
    assert episode["chapters"] >= 1
    # The HTML transcript was not even fetched: WebVTT is the one we read.
    assert not imported.site.requests_for("/transcripts/democratie.html")


def test_item_without_transcript_goes_through_the_pipeline(imported):
    episode = catalogue(imported.data)["urn:ancien-flux:episode-2"]
    assert episode["title"] == "Recruter les jeunes agents"
    assert episode["utterances"] and all(words for _, _, words in episode["utterances"])
    assert "ressources humaines" in " ".join(text for _, text, _ in episode["utterances"]).lower()


def test_running_again_imports_nothing_new(imported):
    before = counts(imported.data)
    audio_requests = len(imported.site.requests_for("/audio/democratie.mp3"))
    for source in (imported.feed_url, str(imported.feed_file), imported.feed_file.as_uri()):
        again = run_parole(imported.data, "ingest-feed", source)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().splitlines()[-1] == SUMMARY_AGAIN
        assert "Rien de nouveau à importer." in again.stderr
    assert counts(imported.data) == before
    # Known guids are skipped before anything is downloaded.
    assert len(imported.site.requests_for("/audio/democratie.mp3")) == audio_requests


@pytest.mark.parametrize("kind", ["404", "missing file", "not a feed"])
def test_an_unreadable_feed_is_a_french_error(kind, imported, tmp_path):
    source = {"404": f"{imported.site.base_url}/absent.xml", "missing file": str(tmp_path / "absent.xml"),
              "not a feed": f"{imported.site.base_url}/audio/page"}[kind]
    result = run_parole(tmp_path / "donnees", "ingest-feed", source)
    assert result.returncode == 2
    assert "Impossible de lire le flux" in result.stderr or "n'est pas un flux RSS" in result.stderr
    assert "Traceback" not in result.stderr


# -- downloads ----------------------------------------------------------------------


@pytest.fixture
def site():
    served = Site().start()
    yield served
    served.stop()


def _payload(size: int = 300_000) -> bytes:
    return np.random.default_rng(7).integers(0, 256, size, dtype=np.uint8).tobytes()


def test_a_partial_download_resumes_with_a_range_request(site, tmp_path):
    body = _payload()
    site.routes["/a.mp3"] = Route(body, "audio/mpeg")
    target = tmp_path / "a.mp3"
    (tmp_path / "a.mp3.part").write_bytes(body[:100_000])
    with httpx.Client() as client:
        download(client, f"{site.base_url}/a.mp3", target)
    assert target.read_bytes() == body
    assert site.log == [("/a.mp3", "bytes=100000-", 206)]
    assert not (tmp_path / "a.mp3.part").exists()


def test_a_dropped_connection_is_resumed_in_the_same_run(site, tmp_path):
    body = _payload()
    site.routes["/b.mp3"] = Route(body, "audio/mpeg", cut_first=True)
    with httpx.Client() as client:
        download(client, f"{site.base_url}/b.mp3", tmp_path / "b.mp3")
    assert (tmp_path / "b.mp3").read_bytes() == body
    assert site.log[0] == ("/b.mp3", None, 200)
    assert site.log[1][2] == 206 and site.log[1][1].startswith("bytes=")


def test_a_server_without_ranges_sends_the_whole_file_again(site, tmp_path):
    body = _payload()
    site.routes["/c.mp3"] = Route(body, "audio/mpeg", ranges=False)
    (tmp_path / "c.mp3.part").write_bytes(b"x" * 5000)
    with httpx.Client() as client:
        download(client, f"{site.base_url}/c.mp3", tmp_path / "c.mp3")
    assert (tmp_path / "c.mp3").read_bytes() == body


def test_too_big_a_file_is_refused_and_nothing_kept(site, tmp_path):
    site.routes["/d.mp3"] = Route(_payload(), "audio/mpeg")
    with httpx.Client() as client, pytest.raises(ItemError, match="trop volumineux"):
        download(client, f"{site.base_url}/d.mp3", tmp_path / "d.mp3", max_bytes=10_000)
    assert list(tmp_path.iterdir()) == []


# -- parsing (pure functions) -------------------------------------------------------


def test_webvtt_voices_markup_and_notes():
    cues = parse_vtt("WEBVTT\n\nNOTE une note\n\nintro\n00:01.000 --> 00:03.500 align:start\n"
                     "<v.loud Jo Spiegel>Bonjour &amp; <i>bienvenue</i>\nà tous.</v>\n\n"
                     "01:00:00.000 --> 01:00:01.000\nsans voix\n")
    assert cues == [(1.0, 3.5, "Jo Spiegel", "Bonjour & bienvenue à tous."), (3600.0, 3601.0, None, "sans voix")]
    with pytest.raises(TranscriptError):
        parse_vtt("1\n00:00:01,000 --> 00:00:02,000\nBonjour\n")


def test_srt_names_and_continuations():
    cues = parse_srt("1\r\n00:00:00,500 --> 00:00:02,000\r\nJo Spiegel : Bonjour à tous\r\n\r\n"
                     "2\r\n00:00:02,000 --> 00:00:04,000\r\nIl est 10:30, la séance commence.\r\n")
    assert cues == [(0.5, 2.0, "Jo Spiegel", "Bonjour à tous"), (2.0, 4.0, None, "Il est 10:30, la séance commence.")]
    labels = speaker_labels(cues)
    utterances = cues_to_utterances(cues, labels)
    assert [(u.speaker, u.text) for u in utterances] == [
        ("SPEAKER_1", "Bonjour à tous Il est 10:30, la séance commence.")]


def test_json_word_segments_become_sentences_with_words():
    cues = parse_json('{"version": "1.0.0", "segments": ['
                      '{"startTime": 0.5, "endTime": 0.9, "body": "Bonjour", "speaker": "Ana Lopez"},'
                      '{"startTime": 0.9, "endTime": 1.2, "body": "à", "speaker": "Ana Lopez"},'
                      '{"startTime": 1.2, "endTime": 1.6, "body": "tous.", "speaker": "Ana Lopez"},'
                      '{"startTime": 1.8, "endTime": 2.4, "body": "Merci.", "speaker": "Jo Spiegel"}]}')
    utterances = cues_to_utterances(cues, speaker_labels(cues))
    assert [(u.speaker, u.text, len(u.words)) for u in utterances] == [
        ("SPEAKER_1", "Bonjour à tous.", 3), ("SPEAKER_2", "Merci.", 1)]
    with pytest.raises(TranscriptError):
        parse_json('{"segments": [{"startTime": "zéro", "body": "x"}]}')


def test_bad_transcripts_are_refused():
    with pytest.raises(TranscriptError, match="vide"):
        parse_transcript(b"WEBVTT\n\n", "vtt")
    with pytest.raises(TranscriptError, match="impossibles"):
        parse_transcript(b'{"segments": [{"startTime": 5, "endTime": 2, "body": "x"}]}', "json")
    cues = parse_transcript(b"WEBVTT\n\n00:10:00.000 --> 00:10:02.000\nbonjour\n", "vtt")
    with pytest.raises(TranscriptError, match="ne correspond pas"):
        cues_to_utterances(cues, {}, duration=30.0)


def test_feed_items_people_and_links():
    feed = parse_feed(FEED.replace("{base}", "https://ancien.example").encode(), "https://ancien.example/flux/rss")
    first = feed.items[0]
    assert first.guests == ("Jo Spiegel",) and first.hosts == ("Claire Dubois",)
    assert first.transcript.url == "https://ancien.example/transcripts/democratie.vtt"
    assert first.transcript.format == "vtt"
    assert (first.episode_number, first.season, str(first.date)) == (1, 2, "2024-05-14")
    assert first.meta().guid == "urn:ancien-flux:episode-1"
    assert feed.items[2].title == "Épisode perdu" and feed.items[2].date is None
    with pytest.raises(FeedError):
        parse_feed(b"<html><body>pas un flux</body></html>", "https://ancien.example/")


def test_html_descriptions_become_plain_text():
    assert html_to_text("<p>Un &amp; deux</p><style>p{}</style><script>alert(1)</script><ul><li>trois</li></ul>") \
        == "Un & deux\ntrois"


def test_a_web_feed_cannot_point_at_local_files():
    with pytest.raises(ItemError, match="refusée"):
        check_location("file:///etc/passwd", allow_files=False)
    check_location("file:///tmp/episode.mp3", allow_files=True)
