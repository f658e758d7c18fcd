"""Security headers on every answer, bounded requests, and pages that run under a strict policy (real server)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from archive.records import Chapter, EpisodeMeta, SourceAudio, Utterance, Voice, Word
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import Server, run_parole, start_server, write_wav

EMAIL = "production@laparoleestavous.fr"
UPLOAD_LIMIT = 2_000_000  # larger than the 1 MB every other form gets: the studio keeps its own limit
EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
DIRECTIVES = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
              "media-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
              "frame-ancestors 'none'"]


@dataclass
class Site:
    server: Server
    data: Path
    slug: str
    audio: Path
    password: str

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    """One published episode with two voices and two chapters, a producer account, and ``parole serve``."""
    data = tmp_path_factory.mktemp("securite")
    audio = write_wav(data / "a.wav", 0.2 * np.sin(np.arange(16_000 * 20) / 5))
    store = Archive(Settings(data_dir=data))
    spoken = ["la", "participation", "citoyenne"]
    words = tuple(Word(" " + w, 0.3 * i, 0.3 * i + 0.2, 0.9) for i, w in enumerate(spoken))
    saved = store.save_episode(
        EpisodeMeta("La participation citoyenne", description="Deux agents racontent.",
                    date=dt.date.today() - dt.timedelta(days=2)),
        SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 20.0),
        [Utterance("SPEAKER_1", 0.0, 5.0, "la participation citoyenne", words),
         Utterance("SPEAKER_2", 6.0, 12.0, "le budget participatif avance", ()),
         Utterance("SPEAKER_1", 13.0, 19.0, "les habitants votent", ())],
        [Voice(label, tuple(np.ones(8)), 1.0) for label in ("SPEAKER_1", "SPEAKER_2")],
        [Chapter(0.0, 6.0, "La participation", ("participation",)), Chapter(6.0, 20.0, "Le budget", ("budget",))])
    store.close()
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data, PAROLE_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT))
    yield Site(server, data, saved.slug, audio, password)
    server.stop()


def assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers.get(name))
    policy = response.headers["content-security-policy"]
    assert [part.strip() for part in policy.split(";")] == DIRECTIVES, (response.url, policy)


# -- headers ---------------------------------------------------------------------------------


def test_pages_api_feed_static_files_and_errors_carry_the_headers(site):
    paths = ["/", f"/episodes/{site.slug}", "/recherche?q=participation", "/personnes", "/api/episodes",
             f"/api/episodes/{site.slug}", "/feed.xml", "/static/style.css", "/static/player.js",
             f"/episodes/{site.slug}/transcript.vtt", "/page-qui-n-existe-pas", "/studio/connexion"]
    with httpx.Client(base_url=site.url, timeout=30) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            assert_secured(response)
        assert client.get("/page-qui-n-existe-pas").status_code == 404


def test_audio_streams_and_range_requests_keep_working_with_the_headers(site):
    whole = site.audio.read_bytes()
    with httpx.Client(base_url=site.url, timeout=30) as client:
        full = client.get(f"/episodes/{site.slug}/audio.wav")
        assert full.status_code == 200 and full.content == whole
        assert_secured(full)
        part = client.get(f"/episodes/{site.slug}/audio.wav", headers={"Range": "bytes=1000-4999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-4999/{len(whole)}"
        assert part.content == whole[1000:5000]
        assert_secured(part)
        head = client.head(f"/episodes/{site.slug}/audio.wav")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(whole))
        assert_secured(head)


def test_a_route_that_sets_its_own_referrer_policy_keeps_it(site):
    """The comment's private pages ask for no referrer at all: the general policy must not weaken that."""
    with httpx.Client(base_url=site.url, timeout=30) as client:
        sent = post_comment(client, site, "Nadia", "Merci pour cet épisode.")
        assert sent.status_code == 303
        private = client.get(sent.headers["location"])
    assert private.status_code == 200 and private.headers["referrer-policy"] == "no-referrer"
    assert private.headers["x-frame-options"] == "DENY"


def test_pages_hold_no_inline_script_or_style(site):
    """What the policy would block: no style attribute, no <style>, no <script> without src, anywhere."""
    with httpx.Client(base_url=site.url, timeout=30) as client:
        pages = [client.get(path).text for path in ("/", f"/episodes/{site.slug}", "/recherche?q=participation",
                                                    "/personnes", "/studio/connexion", "/page-absente")]
    assert 'class="timeline-svg"' in pages[1] and 'class="swatch"' in pages[1]
    for page in pages:
        assert not re.search(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", page, re.IGNORECASE), page[:300]


def test_api_docs_get_their_own_policy_with_the_inline_script_hashed(site):
    response = httpx.get(site.url + "/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    (inline,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy and "https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "/api/openapi.json" in response.text and "Sans accès à ce site" in response.text
    assert httpx.get(site.url + "/api/openapi.json").json()["paths"]


# -- request limits --------------------------------------------------------------------------


def comment_token(client: httpx.Client, site: Site) -> str:
    return re.search(r'name="token" value="([^"]+)"', client.get(f"/episodes/{site.slug}").text).group(1)


def post_comment(client: httpx.Client, site: Site, name: str, text: str) -> httpx.Response:
    return client.post(f"/episodes/{site.slug}/commentaires",
                       data={"name": name, "text": text, "token": comment_token(client, site), "website": ""})


def chunks(body: bytes, size: int = 64 * 1024):
    """A body sent without Content-Length (Transfer-Encoding: chunked), as a streaming client does."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def approved_and_pending_comments(data: Path) -> int:
    from sqlalchemy import func, select

    from archive.db import Database
    from archive.models import Comment

    database = Database(Settings(data_dir=data))
    with database.session() as session:
        count = session.scalar(select(func.count(Comment.id)))
    database.dispose()
    return count


def test_an_oversized_comment_is_refused_with_content_length_and_chunked(site):
    with httpx.Client(base_url=site.url, timeout=60) as client:
        token = comment_token(client, site)
        before = approved_and_pending_comments(site.data)
        body = f"name=Nadia&website=&token={token}&text=".encode() + b"a" * 2_000_000
        headers = {"content-type": "application/x-www-form-urlencoded"}
        for content in (body, chunks(body)):
            refused = client.post(f"/episodes/{site.slug}/commentaires", content=content, headers=headers)
            assert refused.status_code == 413, refused.text[:300]
            assert "Requête trop volumineuse : 1 Mo au plus." in refused.text
            assert "<h1>Envoi trop volumineux</h1>" in refused.text
            assert_secured(refused)
        assert approved_and_pending_comments(site.data) == before
        assert post_comment(client, site, "Nadia", "Un commentaire ordinaire.").status_code == 303


def test_an_oversized_json_body_gets_a_french_json_413(site):
    refused = httpx.post(site.url + "/api/search", content=b"[" + b"1," * 600_000 + b"1]",
                         headers={"content-type": "application/json"}, timeout=60)
    assert refused.status_code == 413
    assert refused.json() == {"detail": "Requête trop volumineuse : 1 Mo au plus."}
    assert_secured(refused)


def test_an_over_long_address_is_refused_in_french(site):
    with httpx.Client(base_url=site.url, timeout=30) as client:
        page = client.get("/recherche", params={"q": "participation " * 800})
        assert page.status_code == 400 and "Adresse trop longue : 8 192 caractères au plus" in page.text
        assert_secured(page)
        api = client.get("/api/search", params={"q": "é" * 2000})
        assert api.status_code == 400 and api.json()["detail"].startswith("Adresse trop longue")
        assert client.get("/recherche", params={"q": "participation " * 100}).status_code == 200


def logged_in(site: Site) -> httpx.Client:
    client = httpx.Client(base_url=site.url, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/studio/connexion").text).group(1)
    response = client.post("/studio/connexion", data={"email": EMAIL, "password": site.password, "csrf": token,
                                                      "suite": "/studio"})
    assert response.status_code == 303, response.text
    return client


def uploaded_files(data: Path) -> list[Path]:
    folder = data / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_the_studio_upload_keeps_its_larger_limit(site, tmp_path):
    client = logged_in(site)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/studio/envoi").text).group(1)
    fields = {"title": "Un envoi", "date": "2026-01-15", "csrf": csrf}

    def wav(seconds: int) -> bytes:  # 32 kB per second
        path = write_wav(tmp_path / f"{seconds}.wav", 0.01 * np.random.default_rng(seconds).standard_normal(
            16_000 * seconds))
        return path.read_bytes()

    request = client.build_request("POST", "/studio/envoi", data=fields, files={"audio": ("long.wav", wav(110))})
    body, content_type = request.read(), request.headers["content-type"]
    assert len(body) > UPLOAD_LIMIT + 1_000_000
    before = uploaded_files(site.data)
    for content in (body, chunks(body)):
        refused = client.post("/studio/envoi", content=content, headers={"content-type": content_type})
        assert refused.status_code == 413 and "Fichier trop volumineux : 2 Mo au plus." in refused.text
    over = client.post("/studio/envoi", data=fields, files={"audio": ("moyen.wav", wav(75))})
    assert over.status_code == 413 and "Fichier trop volumineux" in over.text  # the route's own count
    assert uploaded_files(site.data) == before

    bigger_than_a_form = wav(45)
    assert 1_000_000 < len(bigger_than_a_form) < UPLOAD_LIMIT
    accepted = client.post("/studio/envoi", data=fields, files={"audio": ("court.wav", bigger_than_a_form)})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/studio", accepted.text[:300]
    client.close()


# -- the server ------------------------------------------------------------------------------


def test_serve_with_two_workers_answers(site):
    server = start_server(site.data, "--workers", "2")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for _ in range(6):
                response = client.get(f"/episodes/{site.slug}", headers={"Connection": "close"})
                assert response.status_code == 200 and "La participation citoyenne" in response.text
                assert_secured(response)
    finally:
        server.stop()
    refused = run_parole(site.data, "serve", "--workers", "0", timeout=60)
    assert refused.returncode == 2 and "--workers doit être compris entre 1 et 64" in refused.stderr


# -- in a browser, with the policy enforced --------------------------------------------------

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    (event) => window.__violations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline')));
"""


@pytest.fixture
def watched_page(browser):
    """A page under the site's policy that records every violation (event and console report)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.reports = reports
    yield page
    context.close()


def violations(page) -> list[str]:
    return page.evaluate("window.__violations") + page.reports


def test_the_watch_sees_a_violation_when_there_is_one(watched_page, site):
    """Guards the test below: an inline script added to the page is blocked, and the watch reports it."""
    page = watched_page
    page.goto(site.url + "/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';
                              document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(text.startswith("script-src") for text in page.evaluate("window.__violations"))


@pytest.mark.parametrize("path", ["/", "/episodes/{slug}", "/recherche?q=participation", "/studio/connexion"])
def test_pages_load_under_the_policy_without_violation(watched_page, site, path):
    page = watched_page
    response = page.goto(site.url + path.format(slug=site.slug))
    assert response.status == 200 and response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert violations(page) == []


def test_the_player_still_follows_the_transcript_under_the_policy(watched_page, site):
    page = watched_page
    page.goto(f"{site.url}/episodes/{site.slug}")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    second = page.locator(".utterance").nth(1)
    start = float(second.get_attribute("data-start"))
    second.locator("a.timestamp").click()
    page.wait_for_function(f"() => Math.abs(document.getElementById('player').currentTime - {start}) < 0.6")
    assert page.locator(".player-tools").is_visible()  # shown by player.js: the script ran
    assert violations(page) == []


def test_api_docs_load_without_violation_even_offline(watched_page, site):
    page = watched_page
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.abort())
    page.goto(site.url + "/api/docs")
    page.wait_for_load_state("load")
    assert "Sans accès à ce site" in page.locator("#swagger-ui").inner_text()
    assert violations(page) == []
