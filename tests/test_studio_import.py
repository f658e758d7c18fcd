"""The studio's feed import (issue 7): a form queues the whole feed, a worker imports it, never the web process.

A real ``parole serve --with-worker`` and a local HTTP server serving a feed of two items:
synthesized speech with a WebVTT transcript (so no speech model runs) and a missing file.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Episode
from archive.settings import Settings
from ingest import jobs
from ingest.synth import synthesize
from tests.conftest import make_data_dir
from tests.helpers import Server, run_parole, start_server
from tests.test_ingest_feed import WITH_TRANSCRIPT, Route, Site, catalogue, vtt_for

EMAIL = "production@laparoleestavous.fr"
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>La parole est à vous (ancien flux)</title>
  <item>
    <title>La démocratie locale</title>
    <guid>urn:ancien-flux:studio-1</guid>
    <pubDate>Tue, 14 May 2024 08:00:00 +0200</pubDate>
    <enclosure url="{base}/audio/democratie.wav" type="audio/wav"/>
    <podcast:transcript url="/transcripts/democratie.vtt" type="text/vtt"/>
  </item>
  <item>
    <title>Épisode perdu</title>
    <guid>urn:ancien-flux:studio-2</guid>
    <enclosure url="{base}/audio/perdu.mp3" type="audio/mpeg"/>
  </item>
</channel>
</rss>
"""
REFUSED = "Adresse de flux invalide"


@dataclass
class Studio:
    data: Path
    site: Site
    server: Server
    password: str
    vtt_texts: list[str]

    @property
    def feed_url(self) -> str:
        return f"{self.site.base_url}/feed.xml"


@pytest.fixture(scope="module")
def studio(tmp_path_factory, model_cache) -> Studio:
    """A producer account, a served archive with its worker, and an old feed on a local web server."""
    folder = tmp_path_factory.mktemp("flux-studio")
    spoken = synthesize(WITH_TRANSCRIPT)
    wav = spoken.write_wav(folder / "democratie.wav")
    site = Site().start()
    site.routes.update({
        "/audio/democratie.wav": Route(wav.read_bytes(), "audio/wav"),
        "/transcripts/democratie.vtt": Route(vtt_for(spoken.turns).encode(), "text/vtt; charset=utf-8"),
        "/feed.xml": Route(FEED.replace("{base}", site.base_url).encode(), "application/rss+xml"),
    })
    data = make_data_dir(tmp_path_factory, model_cache, "studio-import")
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data, "--with-worker")
    yield Studio(data, site, server, password, [turn.text for turn in spoken.turns])
    server.stop()
    site.stop()


@pytest.fixture(scope="module")
def client(studio) -> httpx.Client:
    """One logged-in session for the module (logging in again and again would hit the slowdown)."""
    client = httpx.Client(base_url=studio.server.base_url, timeout=30)
    token = csrf_of(client, "/studio/connexion")
    response = client.post("/studio/connexion", data={"email": EMAIL, "password": studio.password, "csrf": token,
                                                      "suite": "/studio"})
    assert response.status_code == 303 and response.headers["location"] == "/studio", response.text
    yield client
    client.close()


def csrf_of(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def job_rows(data: Path) -> list[jobs.JobView]:
    db = Database(Settings(data_dir=data))
    try:
        return jobs.list_jobs(db)
    finally:
        db.dispose()


def episode_count(data: Path) -> int:
    db = Database(Settings(data_dir=data))
    try:
        with db.session() as session:
            return session.scalar(select(func.count(Episode.id)))
    finally:
        db.dispose()


def wait_until_finished(data: Path, job_id: int, server: Server, timeout: float = 120) -> jobs.JobView:
    db = Database(Settings(data_dir=data))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = jobs.get_job(db, job_id)
            if job is not None and job.status in ("done", "failed"):
                return job
            assert server.process.poll() is None, "le serveur s'est arrêté"
            time.sleep(0.2)
        raise AssertionError(f"délai dépassé, travail : {jobs.get_job(db, job_id)}")
    finally:
        db.dispose()


def submit(client: httpx.Client, studio: Studio, url: str) -> jobs.JobView:
    """Post the form with a good token; the new job, once a worker has finished it."""
    before = {job.id for job in job_rows(studio.data)}
    response = client.post("/studio/import", data={"url": url, "csrf": csrf_of(client, "/studio/import")})
    assert response.status_code == 303 and response.headers["location"] == "/studio", response.text
    (job_id,) = {job.id for job in job_rows(studio.data)} - before
    return wait_until_finished(studio.data, job_id, studio.server)


# -- the address alone --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://exemple.fr/flux.xml", "javascript:alert(1)", "file:///etc/passwd",
                                 "/etc/passwd", "https://", "https://exemple.fr/a b.xml", "http://exemple.fr:port/",
                                 "https://exemple.fr/" + "x" * jobs.MAX_FEED_URL])
def test_only_web_addresses_are_accepted(url, tmp_path):
    with pytest.raises(jobs.JobError, match=REFUSED):
        jobs.enqueue_feed_import(Settings(data_dir=tmp_path), url)
    assert job_rows(tmp_path) == []


def test_an_unreachable_queue_leaves_no_job(tmp_path):
    settings = Settings(data_dir=tmp_path, queue_url="amqp://ailleurs")
    with pytest.raises(jobs.JobError, match="La file de travail est injoignable"):
        jobs.enqueue_feed_import(settings, "https://exemple.fr/flux.xml")
    assert job_rows(tmp_path) == []


# -- the studio form ----------------------------------------------------------------------


def test_the_form_needs_a_producer(studio):
    with httpx.Client(base_url=studio.server.base_url) as anonymous:
        page = anonymous.get("/studio/import")
        assert page.status_code == 303 and page.headers["location"].startswith("/studio/connexion")
        posted = anonymous.post("/studio/import", data={"url": studio.feed_url})
        assert posted.status_code == 303 and "/studio/connexion" in posted.headers["location"]
    assert job_rows(studio.data) == []


def test_the_form_is_labelled_and_linked_from_the_studio(studio, client):
    page = client.get("/studio/import")
    assert page.status_code == 200
    assert re.search(r'<label for="url">[^<]+</label>', page.text) and 'id="url" name="url"' in page.text
    assert 'type="hidden" name="csrf"' in page.text and ">Importer</button>" in page.text
    assert 'href="/studio/import">Importer un flux</a>' in client.get("/studio").text


def test_a_forged_form_is_refused(studio, client):
    assert client.post("/studio/import", data={"url": studio.feed_url}).status_code == 403
    assert client.post("/studio/import", data={"url": studio.feed_url, "csrf": "faux"}).status_code == 403
    assert job_rows(studio.data) == []


@pytest.mark.parametrize("url", ["ftp://exemple.fr/flux.xml", "javascript:alert(1)", ""])
def test_a_bad_address_comes_back_with_a_french_message(url, studio, client):
    response = client.post("/studio/import", data={"url": url, "csrf": csrf_of(client, "/studio/import")})
    assert response.status_code == 400
    assert REFUSED in response.text and 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text and 'name="csrf"' in response.text  # the form, to try again
    assert job_rows(studio.data) == []


def test_the_worker_imports_the_feed_and_a_second_import_adds_nothing(studio, client):
    job = submit(client, studio, studio.feed_url)
    assert (job.kind, job.status, job.stage, job.progress) == ("ingest-feed", "done", "import", 1.0), job
    assert job.title == f"Import du flux {studio.feed_url}"
    assert job.worker.rsplit(":", 1)[1] != str(studio.server.process.pid)  # the web process never runs a job
    # The feed was read, so the job is done; the item that failed is named, with why, in French.
    assert job.error.startswith("1 épisode importé, 0 déjà présent, 1 en échec. Échecs : « Épisode perdu » : "
                                "le serveur a répondu 404"), job.error
    episode = catalogue(studio.data)["urn:ancien-flux:studio-1"]
    assert episode["title"] == "La démocratie locale"
    assert [text for _, text, _ in episode["utterances"]] == studio.vtt_texts  # the VTT's text, not a model's
    assert episode["speakers"] == {"SPEAKER_1": "Claire Dubois", "SPEAKER_2": "Jo Spiegel"}
    progress = {row["id"]: row for row in client.get("/studio/travaux.json").json()}
    assert progress[job.id]["status"] == "done"
    listing = client.get("/studio").text  # the producer sees which items failed, without a retry button
    assert "Épisode perdu" in listing and f"/studio/travaux/{job.id}/relancer" not in listing

    again = submit(client, studio, studio.feed_url)
    assert (again.kind, again.status) == ("ingest-feed", "done")
    assert again.error.startswith("0 épisode importé, 1 déjà présent, 1 en échec"), again.error
    assert episode_count(studio.data) == 1


def test_an_unreadable_feed_fails_the_job_in_french(studio, client):
    job = submit(client, studio, f"{studio.site.base_url}/absent.xml")
    assert (job.kind, job.status, job.episode_id) == ("ingest-feed", "failed", None)
    assert job.error.startswith("Impossible de lire le flux") and "404" in job.error, job.error
    assert "Import du flux" in client.get("/studio").text  # failed jobs stay on the list, to retry
    assert {row.kind for row in job_rows(studio.data)} == {"ingest-feed"}
