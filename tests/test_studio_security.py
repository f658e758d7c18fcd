"""The studio lets producers in and nobody else, and refuses forged or stale forms (real server, real HTTP)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import numpy as np
import pytest

from archive.records import Chapter, EpisodeMeta, SourceAudio, Utterance, Voice, Word
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import run_parole, start_server, write_wav

EMAIL = "production@laparoleestavous.fr"
UPLOAD_LIMIT = 400_000
HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "{{ 7*7 }}"]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """An archive with one draft episode and one producer account, served by ``parole serve``."""
    data = tmp_path_factory.mktemp("studio")
    store = Archive(Settings(data_dir=data))
    audio = write_wav(data / "a.wav", 0.01 * np.random.default_rng(2).standard_normal(16_000 * 3))
    words = [Word("Les", 0.0, 0.3, 0.9), Word("élus", 0.3, 0.7, 0.3), Word("votent", 0.7, 1.2, 0.95)]
    utterances = [Utterance("SPEAKER_1", 0.0, 1.2, "Les élus votent", words),
                  Utterance("SPEAKER_2", 1.5, 2.9, "Le budget participatif avance.")]
    saved = store.save_episode(
        EpisodeMeta("Un épisode à relire", date=dt.date.today() - dt.timedelta(days=1), draft=True),
        SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 3.0), utterances,
        [Voice(label, tuple(np.ones(8)), 1.0) for label in ("SPEAKER_1", "SPEAKER_2")],
        [Chapter(0.0, 3.0, "Le vote", ("vote",))])
    store.close()
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data, PAROLE_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT))
    yield server, saved.id, password, data
    server.stop()


def logged_in(server, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    form = client.get("/studio/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = client.post("/studio/connexion", data={"email": EMAIL, "password": password, "csrf": token,
                                                      "suite": "/studio"})
    assert response.status_code == 303 and response.headers["location"] == "/studio", response.text
    return client


def csrf_of(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def passage(client: httpx.Client, episode_id: int, text: str) -> tuple[int, int]:
    page = client.get(f"/studio/episodes/{episode_id}").text
    block = next(block for block in page.split('<li id="u')[1:] if f">{text}</textarea>" in block)
    return int(re.match(r"(\d+)", block).group(1)), int(re.search(r'name="version" value="(\d+)"', block).group(1))


def test_nobody_gets_in_without_a_session(studio):
    server, episode_id, _password, _data = studio
    with httpx.Client(base_url=server.base_url) as client:
        for path in ("/studio", f"/studio/episodes/{episode_id}", "/studio/travaux.json"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/studio/connexion")
        response = client.post(f"/studio/episodes/{episode_id}/publication", data={"action": "publier"})
        assert response.status_code == 303 and "/studio/connexion" in response.headers["location"]
        assert "Un épisode à relire" not in client.get("/feed.xml").text
        client.cookies.set("parole_session", "eyJwIjoxfQ.forged.signature")
        assert client.get("/studio").status_code == 303


def test_login_needs_the_form_token_the_password_and_slows_down(studio):
    server, _episode_id, password, _data = studio
    with httpx.Client(base_url=server.base_url) as client:
        token = csrf_of(client, "/studio/connexion")
        forged = client.post("/studio/connexion", data={"email": EMAIL, "password": password, "csrf": "faux"})
        assert forged.status_code == 403 and "Formulaire expiré" in forged.text
        statuses = [client.post("/studio/connexion", data={"email": EMAIL, "password": "mauvais", "csrf": token})
                    for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [401, 401, 401]
        assert statuses[3].status_code == 429 and "Trop de tentatives" in statuses[3].text
        # Even the right password waits until the delay is over.
        assert client.post("/studio/connexion", data={"email": EMAIL, "password": password,
                                                      "csrf": token}).status_code == 429


def test_session_cookie_is_protected_and_logout_needs_the_token(studio):
    server, _episode_id, password, _data = studio
    import time

    time.sleep(4.5)  # the slowdown of the previous test is over
    client = logged_in(server, password)
    login = client.post("/studio/connexion", data={"email": EMAIL, "password": password,
                                                   "csrf": csrf_of(client, "/studio/connexion")})
    set_cookie = login.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "max-age" in set_cookie
    assert client.get("/studio").status_code == 200
    outside = client.post("/studio/connexion", data={"email": EMAIL, "password": password,
                                                     "csrf": csrf_of(client, "/studio/connexion"),
                                                     "suite": "https://ailleurs.example/piege"})
    assert outside.headers["location"] == "/studio"
    assert client.post("/studio/deconnexion", data={"csrf": "faux"}).status_code == 403
    assert client.get("/studio").status_code == 200
    assert client.post("/studio/deconnexion", data={"csrf": csrf_of(client, "/studio")}).status_code == 303
    assert client.get("/studio").status_code == 303
    client.close()


def test_corrections_need_the_token_and_stale_saves_are_refused(studio):
    server, episode_id, password, _data = studio
    client = logged_in(server, password)
    utterance_id, version = passage(client, episode_id, "Le budget participatif avance.")
    url = f"/studio/episodes/{episode_id}/passages/{utterance_id}"
    forged = client.post(url, data={"text": "forgé", "version": version, "csrf": "faux"})
    assert forged.status_code == 403
    token = csrf_of(client, f"/studio/episodes/{episode_id}")
    first = client.post(url, data={"text": "Le budget participatif progresse.", "version": version, "csrf": token})
    assert first.status_code == 303
    stale = client.post(url, data={"text": "Une autre version.", "version": version, "csrf": token})
    assert stale.status_code == 409 and "modifié entre-temps" in stale.text
    page = client.get(f"/studio/episodes/{episode_id}").text
    assert "Le budget participatif progresse." in page and "Une autre version." not in page and "(corrigé)" in page
    assert client.post(url, data={"text": "   ", "version": version + 1, "csrf": token}).status_code == 400
    assert client.post(f"/studio/episodes/{episode_id}/passages/999999",
                       data={"text": "x", "version": 1, "csrf": token}).status_code == 404
    client.close()


def test_doubtful_words_are_underlined_for_the_producer(studio):
    server, episode_id, password, _data = studio
    client = logged_in(server, password)
    page = client.get(f"/studio/episodes/{episode_id}").text
    assert '<u class="doubt" title="mot peu sûr">élus</u>' in page
    client.close()


def test_hostile_text_is_shown_as_text_everywhere(studio):
    server, episode_id, password, _data = studio
    client = logged_in(server, password)
    token = csrf_of(client, f"/studio/episodes/{episode_id}")
    utterance_id, version = passage(client, episode_id, "Les élus votent")
    hostile = " ".join(HOSTILE)
    assert client.post(f"/studio/episodes/{episode_id}/passages/{utterance_id}",
                       data={"text": hostile, "version": version, "csrf": token}).status_code == 303
    assert client.post(f"/studio/episodes/{episode_id}/locuteurs",
                       data={"label": "SPEAKER_2", "name": HOSTILE[1], "csrf": token}).status_code == 303
    assert client.post(f"/studio/episodes/{episode_id}/publication",
                       data={"action": "publier", "csrf": token}).status_code == 303
    slug = re.search(r'href="/episodes/([^"]+)">page publique', client.get(f"/studio/episodes/{episode_id}").text)[1]
    documents = {
        "page": client.get(f"/episodes/{slug}").text,
        "studio": client.get(f"/studio/episodes/{episode_id}").text,
        "feed": client.get("/feed.xml").text,
        "vtt": client.get(f"/episodes/{slug}/transcript.vtt").text,
        "html": client.get(f"/episodes/{slug}/transcript.html").text,
        "search": client.get("/recherche", params={"q": "alert"}).text,
    }
    for name, text in documents.items():
        assert "<script>alert" not in text and "<img src=x" not in text, name
    for name in ("page", "studio", "vtt", "html"):  # the template syntax is shown as typed, never evaluated
        assert "{{ 7*7 }}" in documents[name], name
    assert "&lt;script&gt;alert" in documents["page"]
    assert "&gt;&lt;img src=x" in documents["feed"]
    json_text = client.get(f"/episodes/{slug}/transcript.json").json()
    assert any('<script>alert("x")</script>' in segment["body"] for segment in json_text["segments"])
    client.close()


@pytest.mark.parametrize("path", ["/episodes/..%2F..%2Fetc%2Fpasswd/audio.wav", "/static/..%2F..%2Fetc%2Fpasswd",
                                  "/episodes/x/audio.wav%2F..%2F..%2Fetc%2Fpasswd", "/static/../../etc/passwd",
                                  "/episodes/../../etc/passwd"])
def test_paths_outside_the_archive_are_not_found(studio, path):
    server, *_ = studio
    response = httpx.get(server.base_url + path)
    assert response.status_code == 404 and "root:" not in response.text


def _uploads(data) -> list[str]:
    folder = data / "uploads"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _jobs(data) -> int:
    from sqlalchemy import func, select

    from archive.db import Database
    from archive.models import Job

    database = Database(Settings(data_dir=data))
    with database.session() as session:
        count = session.scalar(select(func.count(Job.id)))
    database.dispose()
    return count


def test_uploads_are_checked_by_content_and_size_and_need_the_token(studio, tmp_path):
    server, _episode_id, password, data = studio
    client = logged_in(server, password)
    token = csrf_of(client, "/studio/envoi")
    fields = {"title": "Un envoi", "date": "2026-01-15", "csrf": token}
    before = (_uploads(data), _jobs(data))

    text = tmp_path / "notes.mp3"
    text.write_text("ceci n'est pas du son " * 50)
    refused = client.post("/studio/envoi", data=fields, files={"audio": ("notes.mp3", text.read_bytes())})
    assert refused.status_code == 400 and "illisible" in refused.text and 'value="Un envoi"' in refused.text
    big = write_wav(tmp_path / "long.wav", 0.01 * np.random.default_rng(5).standard_normal(16_000 * 20))
    too_big = client.post("/studio/envoi", data=fields, files={"audio": ("long.wav", big.read_bytes())})
    assert too_big.status_code == 413 and "trop volumineux" in too_big.text
    forged = client.post("/studio/envoi", data={**fields, "csrf": "faux"},
                         files={"audio": ("a.wav", (data / "a.wav").read_bytes())})
    assert forged.status_code == 403
    bad_date = client.post("/studio/envoi", data={**fields, "date": "hier"},
                           files={"audio": ("a.wav", (data / "a.wav").read_bytes())})
    assert bad_date.status_code == 400 and "Date invalide" in bad_date.text
    assert (_uploads(data), _jobs(data)) == before

    small = write_wav(tmp_path / "court.wav", 0.01 * np.random.default_rng(6).standard_normal(16_000 * 2))
    accepted = client.post("/studio/envoi", data={**fields, "guests": "Ana Lopez|DGS|Ville de Metz"},
                           files={"audio": ("court.wav", small.read_bytes())})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/studio"
    assert _jobs(data) == before[1] + 1
    listing = client.get("/studio").text
    assert "Un envoi" in listing and "<progress" in listing
    client.close()


def test_chapters_are_edited_from_the_review_page(studio):
    server, episode_id, password, _data = studio
    client = logged_in(server, password)
    token = csrf_of(client, f"/studio/episodes/{episode_id}")
    base = f"/studio/episodes/{episode_id}"
    assert client.post(f"{base}/chapitres/1", data={"title": "Le vote du budget", "csrf": token}).status_code == 303
    assert 'value="Le vote du budget"' in client.get(base).text
    assert client.post(f"{base}/coupure", data={"moment": "1.5", "csrf": token}).status_code == 303
    assert client.get(base).text.count('name="title"') == 2  # two chapters, each with its title field
    assert client.post(f"{base}/chapitres/1/fusion", data={"csrf": token}).status_code == 303
    assert client.get(base).text.count('name="title"') == 1
    last = client.post(f"{base}/chapitres/1/fusion", data={"csrf": token})
    assert last.status_code == 400 and "le dernier" in last.text
    outside = client.post(f"{base}/coupure", data={"moment": "999", "csrf": token})
    assert outside.status_code == 400 and "Aucun chapitre" in outside.text
    assert client.post(f"{base}/coupure", data={"moment": "1", "csrf": "faux"}).status_code == 403
    client.close()


def test_a_script_with_an_api_token_needs_no_form_token(studio):
    server, episode_id, _password, data = studio
    created = run_parole(data, "producers", "token", EMAIL, "--name", "import nocturne")
    assert created.returncode == 0, created.stderr
    token = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    with httpx.Client(base_url=server.base_url) as client:
        base = f"/studio/episodes/{episode_id}"
        ok = client.post(f"{base}/chapitres/1", data={"title": "Le vote"},
                         headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 303
        wrong = client.post(f"{base}/chapitres/1", data={"title": "Piraté"},
                            headers={"Authorization": "Bearer prl_faux"})
        assert wrong.status_code == 303 and "/studio/connexion" in wrong.headers["location"]
        page = client.get(base, headers={"Authorization": f"Bearer {token}"}).text
        assert 'value="Le vote"' in page and "Piraté" not in page


def test_edits_of_an_unknown_episode_are_not_found(studio):
    server, _episode_id, password, _data = studio
    client = logged_in(server, password)
    token = csrf_of(client, "/studio")
    for path, fields in (("publication", {"action": "depublier"}), ("chapitres/1", {"title": "x"}),
                         ("coupure", {"moment": "1"}), ("locuteurs", {"label": "SPEAKER_1", "name": "Ana"}),
                         ("fusion", {"label": "SPEAKER_1", "into": "SPEAKER_2"}),
                         ("extrait", {"start": "0", "duration": "20"})):
        response = client.post(f"/studio/episodes/999999/{path}", data={**fields, "csrf": token})
        assert response.status_code == 404, (path, response.status_code)
    assert client.get("/studio/episodes/999999").status_code == 404
    client.close()
