"""The podcast feed as apps read it: Apple's required tags, the Podcast Namespace, drafts, caching."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import feedparser
import httpx
import numpy as np
import pytest
from lxml import etree

from archive.records import Chapter, EpisodeMeta, Guest, SourceAudio, Utterance, Voice
from archive.release import release_time
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import SHARED_TESTDATA, run_parole, start_server, write_wav

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NAMESPACE = SHARED_TESTDATA / "podcast-namespace"
TODAY = dt.date.today()

SENTENCES = [
    "Le budget participatif permet aux habitants de proposer des projets pour leur quartier.",
    "Chaque année nous recevons des dizaines d'idées, des jardins partagés aux aires de jeux.",
    "Les agents accompagnent les porteurs de projet et chiffrent le coût des propositions.",
    "Ensuite les habitants votent et la commune réalise les projets retenus dans l'année.",
]


def _episode(store: Archive, folder: Path, number: int, title: str, date: dt.date, draft: bool = False):
    rng = np.random.default_rng(number)
    audio = write_wav(folder / f"{number}.wav", 0.01 * rng.standard_normal(16_000 * 2))
    utterances = [Utterance("SPEAKER_1", 0.0, 6.0, "Bonjour, parlons du budget participatif de la commune.")]
    clock = 6.0
    for sentence in SENTENCES * 2:
        utterances.append(Utterance("SPEAKER_2", clock, clock + 7.0, sentence))
        clock += 7.0
    utterances.append(Utterance("SPEAKER_1", clock, clock + 4.0, "Merci beaucoup pour ce témoignage."))
    chapters = [Chapter(0.0, 34.0, "Le budget participatif", ("budget", "participatif", "habitants")),
                Chapter(34.0, clock + 4.0, "Le vote des habitants", ("vote", "projets"))]
    voices = [Voice(label, tuple(rng.standard_normal(8)), 10.0) for label in ("SPEAKER_1", "SPEAKER_2")]
    meta = EpisodeMeta(title, f"Épisode {number} de l'émission.", date, (Guest("Nadia Benali", "DRH"),), draft,
                       number, 1)
    saved = store.save_episode(meta, SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", clock + 4.0),
                               utterances, voices, chapters)
    store.name_speaker(saved.id, "SPEAKER_1", "Camila Masetti", "animatrice", host=True)
    store.name_speaker(saved.id, "SPEAKER_2", "Nadia Benali", "DRH", "Département du Nord")
    return saved


@pytest.fixture(scope="module")
def feed_archive(tmp_path_factory):
    """Three live episodes, one draft, one scheduled for next week, served by a real ``parole serve``."""
    data = tmp_path_factory.mktemp("feed")
    store = Archive(Settings(data_dir=data))
    slugs = {}
    for number, (title, date, draft) in enumerate([
        ("Le budget participatif", TODAY - dt.timedelta(days=30), False),
        ("Les jardins partagés", TODAY - dt.timedelta(days=20), False),
        ("Recruter des apprentis <b>&</b>", TODAY - dt.timedelta(days=10), False),
        ("Un brouillon", TODAY - dt.timedelta(days=5), True),
        ("Un épisode programmé", TODAY + dt.timedelta(days=7), False),
    ], start=1):
        slugs[title] = _episode(store, data, number, title, date, draft).slug
    store.close()
    server = start_server(data)
    yield data, server, slugs
    server.stop()


def _feed(server) -> httpx.Response:
    response = httpx.get(server.base_url + "/feed.xml")
    assert response.status_code == 200
    return response


def test_every_podcast_element_validates_and_apple_tags_are_there(feed_archive):
    _data, server, _slugs = feed_archive
    response = _feed(server)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    root = etree.fromstring(response.content)
    channel = root.find("channel")

    for tag in ("title", "description", "language"):
        assert channel.findtext(tag), tag
    assert channel.findtext("language") == "fr"
    assert channel.find(f"{{{ITUNES_NS}}}image").get("href").endswith("/static/cover.png")
    assert channel.find(f"{{{ITUNES_NS}}}category").get("text") == "Government"
    assert channel.findtext(f"{{{ITUNES_NS}}}explicit") == "false"
    assert channel.find("{http://www.w3.org/2005/Atom}link").get("rel") == "self"
    items = channel.findall("item")
    assert len(items) == 3
    for item in items:
        assert item.findtext("title")
        enclosure = item.find("enclosure")
        assert enclosure.get("url").startswith(server.base_url) and int(enclosure.get("length")) > 0
        assert enclosure.get("type") == "audio/wav"
        assert httpx.head(enclosure.get("url")).headers["content-length"] == enclosure.get("length")
        assert item.findtext(f"{{{ITUNES_NS}}}episode") and item.findtext(f"{{{ITUNES_NS}}}season") == "1"

    # podcast:guid is not in the namespace's XSD: it is checked against its definition instead.
    guid = channel.findtext(f"{{{PODCAST_NS}}}guid")
    bare = (server.base_url + "/feed.xml").split("://", 1)[1]
    assert guid == str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), bare))
    elements = [e for e in root.iter(f"{{{PODCAST_NS}}}*") if etree.QName(e).localname != "guid"]
    names = {etree.QName(e).localname for e in elements}
    assert {"locked", "person", "transcript", "chapters", "soundbite"} <= names
    wrapper = etree.Element(f"{{{PODCAST_NS}}}test-wrapper", nsmap={"podcast": PODCAST_NS})
    for element in elements:
        wrapper.append(element)
    schema = etree.XMLSchema(etree.parse(str(NAMESPACE / "podcast-wrapper.xsd")))
    assert schema.validate(wrapper), schema.error_log


def test_items_name_people_transcripts_and_a_soundbite(feed_archive):
    _data, server, slugs = feed_archive
    root = etree.fromstring(_feed(server).content)
    channel = root.find("channel")
    assert [(p.text, p.get("role")) for p in channel.findall(f"{{{PODCAST_NS}}}person")] == [("Camila Masetti", "host")]
    item = channel.findall("item")[-1]  # the oldest
    people = {p.text: (p.get("role"), p.get("group"), p.get("href")) for p in item.findall(f"{{{PODCAST_NS}}}person")}
    assert people["Camila Masetti"][0] == "host" and people["Nadia Benali"][0] == "guest"
    assert people["Nadia Benali"][1] == "cast" and people["Nadia Benali"][2].endswith("/personnes/nadia-benali")
    assert "Nadia Benali, DRH" in item.findtext("description")
    types = {t.get("type"): t for t in item.findall(f"{{{PODCAST_NS}}}transcript")}
    assert set(types) == {"text/vtt", "application/x-subrip", "application/json", "text/html"}
    assert types["text/vtt"].get("rel") == "captions" and all(t.get("language") == "fr" for t in types.values())
    bite = item.find(f"{{{PODCAST_NS}}}soundbite")
    start, duration = float(bite.get("startTime")), float(bite.get("duration"))
    assert 15 <= duration <= 120 and start >= 6.0  # the guest's explanation, not the host's greeting
    assert bite.text.startswith("Le budget participatif")


def test_drafts_and_scheduled_episodes_stay_out_until_their_time(feed_archive):
    data, server, slugs = feed_archive
    titles = [item.title for item in feedparser.parse(_feed(server).content).entries]
    assert "Un brouillon" not in titles and "Un épisode programmé" not in titles
    home = httpx.get(server.base_url + "/").text
    assert "Un brouillon" not in home and "Un épisode programmé" not in home
    hidden = {slugs["Un brouillon"], slugs["Un épisode programmé"]}
    for query in ("brouillon", "programmé", "budget participatif", "habitants"):
        found = httpx.get(server.base_url + "/api/search", params={"q": query}).json()
        assert not hidden & {group["slug"] for group in found["episodes"]}, query  # not public yet
    assert "Un brouillon" not in httpx.get(server.base_url + "/recherche", params={"q": "brouillon"}).text

    # The scheduled episode is in the feed built for the morning of its date, not the evening before.
    from web.feed_cache import FeedCache

    store = Archive(Settings(data_dir=data))
    with store.db.session() as session:
        episode_date = TODAY + dt.timedelta(days=7)
        release = release_time(episode_date)
        before = FeedCache(Settings(data_dir=data)).get(session, release - dt.timedelta(minutes=1)).body
        after = FeedCache(Settings(data_dir=data)).get(session, release).body
    store.close()
    assert "Un épisode programmé".encode() not in before and "Un épisode programmé".encode() in after

    result = run_parole(data, "episode", slugs["Un brouillon"], "--publish")
    assert result.returncode == 0, result.stderr
    titles = [item.title for item in feedparser.parse(_feed(server).content).entries]
    assert "Un brouillon" in titles
    found = httpx.get(server.base_url + "/api/search", params={"q": "brouillon"}).json()
    assert slugs["Un brouillon"] in {group["slug"] for group in found["episodes"]}  # searchable once published
    result = run_parole(data, "episode", slugs["Un brouillon"], "--draft")
    assert result.returncode == 0 and "brouillon" in result.stdout


def test_a_title_edit_keeps_the_guid_and_conditional_requests_get_304(feed_archive):
    data, server, slugs = feed_archive
    first = _feed(server)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert httpx.get(server.base_url + "/feed.xml", headers={"If-None-Match": etag}).status_code == 304
    assert httpx.get(server.base_url + "/feed.xml", headers={"If-Modified-Since": modified}).status_code == 304
    guids = {e.title: e.id for e in feedparser.parse(first.content).entries}

    result = run_parole(data, "episode", slugs["Les jardins partagés"], "--title", "Les jardins partagés, suite")
    assert result.returncode == 0, result.stderr
    second = httpx.get(server.base_url + "/feed.xml", headers={"If-None-Match": etag})
    assert second.status_code == 200 and second.headers["etag"] != etag
    renamed = {e.title: e.id for e in feedparser.parse(second.content).entries}
    assert renamed["Les jardins partagés, suite"] == guids["Les jardins partagés"]
    again = httpx.get(server.base_url + "/feed.xml", headers={"If-None-Match": second.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_bad_episode_edits_are_refused_in_french(feed_archive):
    data, _server, slugs = feed_archive
    slug = slugs["Le budget participatif"]
    for args, words in ((["--soundbite", "0", "5"], "15 à 120"), (["--soundbite", "40", "100"], "tenir"),
                        (["--title", "  "], "titre"), (["--publish", "--draft"], "pas les deux")):
        result = run_parole(data, "episode", slug, *args)
        assert result.returncode == 2 and words in result.stderr, (args, result.stderr)
    assert run_parole(data, "episode", "inconnu").returncode == 2
    picked = run_parole(data, "episode", slug, "--soundbite", "13", "20")
    assert picked.returncode == 0 and "13 s + 20 s (choisi)" in picked.stdout


def test_the_four_transcripts_and_chapters_as_apps_read_them(feed_archive):
    import io
    import json

    import srt
    import webvtt

    _data, server, slugs = feed_archive
    base = f"{server.base_url}/episodes/{slugs['Le budget participatif']}"
    files = {suffix: httpx.get(f"{base}/transcript.{suffix}") for suffix in ("vtt", "srt", "json", "html")}
    expected_types = {"vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json",
                      "html": "text/html"}
    for suffix, response in files.items():
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(expected_types[suffix])
        assert response.headers["access-control-allow-origin"] == "*"

    assert httpx.get(f"{base}/transcript.pdf").status_code == 404
    assert httpx.get(f"{server.base_url}/episodes/inconnu/transcript.vtt").status_code == 404

    captions = webvtt.from_buffer(io.StringIO(files["vtt"].text)).captions
    assert captions and all(caption.voice in {"Camila Masetti", "Nadia Benali"} for caption in captions)
    assert all(len(line) <= 65 for caption in captions for line in caption.text.splitlines())
    subtitles = list(srt.parse(files["srt"].text))
    assert len(subtitles) == len(captions) and subtitles[0].content.startswith("Camila Masetti: ")

    example = json.loads((NAMESPACE / "examples_transcripts_example.json").read_text())
    ours = files["json"].json()
    assert set(ours) == set(example)
    example_fields = {key for segment in example["segments"] for key in segment}
    assert all(set(segment) <= example_fields and {"startTime", "endTime", "body"} <= set(segment)
               for segment in ours["segments"])
    assert "Nadia Benali" in files["html"].text and '<html lang="fr">' in files["html"].text

    chapters = httpx.get(f"{base}/chapters.json")
    chapter_example = json.loads((NAMESPACE / "examples_chapters_example.json").read_text())
    assert set(chapters.json()) == set(chapter_example)
    assert [c["title"] for c in chapters.json()["chapters"]] == ["Le budget participatif", "Le vote des habitants"]


def test_an_episode_published_now_is_live_at_any_hour():
    """Before 08:00 Paris time, today's date is not out yet: an episode published now takes the last date out."""
    from archive.records import EpisodeMeta
    from archive.release import latest_live_date

    night = dt.datetime(2026, 11, 29, 0, 30, tzinfo=dt.UTC)
    morning = dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)
    assert latest_live_date(night) == dt.date(2026, 11, 28)
    assert latest_live_date(morning) == dt.date(2026, 11, 29)
    assert release_time(latest_live_date(night)) <= night and release_time(latest_live_date(morning)) <= morning
    assert EpisodeMeta("Sans date").date == latest_live_date()


def test_every_server_process_gives_the_same_etag(feed_archive):
    """Apps reach whichever server process answers: an unchanged feed must be the same bytes in all of them."""
    from web.feed_cache import FeedCache

    data, _server, _slugs = feed_archive
    store = Archive(Settings(data_dir=data))
    try:
        with store.db.session() as session:
            first = FeedCache(Settings(data_dir=data)).get(session)
            time.sleep(1.1)  # a feed stamped with the time of its build would now differ
            second = FeedCache(Settings(data_dir=data)).get(session)
    finally:
        store.close()
    assert second.body == first.body and second.etag == first.etag
