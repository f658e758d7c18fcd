"""A producer's whole round in a real browser: log in, upload, wait, correct, name, publish, then find it."""

from __future__ import annotations

import datetime as dt
import re

import feedparser
import httpx
import pytest

from tests.conftest import make_data_dir
from tests.helpers import run_parole, start_server

EMAIL = "production@laparoleestavous.fr"
TITLE = "Les ateliers de quartier"
NEW_WORD = "Zanzibarines"


@pytest.fixture(scope="module")
def studio_with_worker(tmp_path_factory, model_cache):
    data = make_data_dir(tmp_path_factory, model_cache, "studio-browser")
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data, "--with-worker")
    yield server, password
    server.stop()


def test_upload_review_publish_then_search_and_feed(studio_with_worker, browser, interview):
    server, password = studio_with_worker
    audio, _synthesis = interview
    page = browser.new_page()
    page.set_default_timeout(20_000)
    # The whole round runs under the site's Content-Security-Policy: anything it blocks is reported here.
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(server.base_url + "/studio")
    assert "/studio/connexion" in page.url
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(server.base_url + "/studio")

    page.get_by_role("link", name="Envoyer un épisode").click()
    page.get_by_label("Fichier audio").set_input_files(str(audio))
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Date de diffusion").fill((dt.date.today() - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Invités").fill("Marc Durand|directeur des services techniques|Ville de Saint-Aubin")
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url(server.base_url + "/studio")
    assert page.locator("progress").count() >= 1  # the job is shown while it is processed

    # The list page polls the worker's progress and reloads when the job is done.
    to_review = page.locator('section[aria-labelledby="etat-review"]').get_by_role("link", name=TITLE)
    to_review.wait_for(timeout=240_000)
    to_review.click()

    first = page.locator(".review-row").nth(2)  # "Parlons de la participation citoyenne …"
    first.get_by_text("Corriger").click()
    box = first.get_by_label("Texte du passage")
    box.fill(box.input_value() + f" {NEW_WORD}")
    first.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    assert NEW_WORD in page.locator(".review-row").nth(2).inner_text()

    page.get_by_label("Voix", exact=True).select_option(index=0)
    page.get_by_label("Nom de la personne").fill("Camila Masetti")
    page.get_by_label("Rôle ou métier").fill("animatrice")
    page.get_by_role("button", name="Nommer cette voix").click()
    page.wait_for_load_state()
    assert "Camila Masetti" in page.locator("#locuteurs").inner_text()

    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_load_state()
    assert "publié" in page.locator(".meta").first.inner_text()

    page.goto(server.base_url + "/recherche?q=" + NEW_WORD.lower())
    result = page.locator(".result-episode").first
    assert TITLE in result.inner_text()
    assert "Camila Masetti" in page.content()
    feed = feedparser.parse(httpx.get(server.base_url + "/feed.xml").content)
    (entry,) = [entry for entry in feed.entries if entry.title == TITLE]
    enclosure = entry.enclosures[0]  # the MP3 the worker made for podcast apps
    assert enclosure["href"].endswith("/podcast.mp3") and enclosure["type"] == "audio/mpeg"
    mp3 = httpx.get(enclosure["href"])
    assert mp3.status_code == 200 and mp3.content[:3] == b"ID3" and len(mp3.content) == int(enclosure["length"])
    assert blocked == []
    page.close()
