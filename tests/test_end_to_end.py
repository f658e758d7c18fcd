"""A producer ingests an interview; a listener finds a word said in it and lands on the moment (SQLite, PostgreSQL)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Episode, Utterance
from tests.helpers import run_parole


def test_ingested_episode_is_listed_newest_first(served_archive):
    page = httpx.get(served_archive.url + "/")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text
    assert f'href="/episodes/{served_archive.slug}"' in page.text
    # The guest line, as read: the name links to the person's page.
    assert '<a href="/personnes/jo-spiegel">Jo Spiegel</a>, maire de Kingersheim' in page.text


def test_search_links_to_the_moment_the_word_was_said(served_archive):
    turn = served_archive.synthesis.turns[2]  # the host's question about "participation citoyenne"
    assert "participation" in turn.text
    page = httpx.get(served_archive.url + "/recherche", params={"q": "participation"})
    assert page.status_code == 200
    links = re.findall(rf'href="/episodes/{served_archive.slug}#t=([0-9.]+)"', page.text)
    assert links, page.text
    assert any(abs(float(start) - turn.start) <= 2.0 for start in links), (links, turn.start)
    assert "<mark" in page.text


def test_episode_page_has_player_and_timestamped_transcript(served_archive):
    page = httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}")
    assert page.status_code == 200
    assert re.search(r'<audio[^>]+src="/episodes/[^"]+/audio\.wav"', page.text)
    starts = [float(value) for value in re.findall(r'class="utterance" id="u\d+" data-start="([0-9.]+)"', page.text)]
    assert len(starts) >= 5
    assert starts == sorted(starts)
    for start in starts:
        assert f'href="#t={start:g}"' in page.text
    assert "/static/player.js" in page.text


def test_unknown_episode_gets_a_french_404_page(served_archive):
    page = httpx.get(served_archive.url + "/episodes/episode-qui-n-existe-pas")
    assert page.status_code == 404
    assert "Page introuvable" in page.text and 'lang="fr"' in page.text
    api = httpx.get(served_archive.url + "/api/episodes/episode-qui-n-existe-pas")
    assert api.status_code == 404
    assert api.json()["detail"]


def test_api_lists_the_episode_and_its_transcript(served_archive):
    episodes = httpx.get(served_archive.url + "/api/episodes").json()
    assert [e["slug"] for e in episodes] == [served_archive.slug]
    detail = httpx.get(f"{served_archive.url}/api/episodes/{served_archive.slug}").json()
    assert detail["guests"][0]["name"] == "Jo Spiegel"
    assert len(detail["transcript"]) >= 5
    found = httpx.get(served_archive.url + "/api/search", params={"q": "participation"}).json()
    assert found["episodes"][0]["slug"] == served_archive.slug
    assert "/api/search" in httpx.get(served_archive.url + "/api/openapi.json").json()["paths"]


def test_ingesting_the_same_audio_twice_keeps_one_episode(served_archive):
    result = run_parole(served_archive.data_dir, "ingest", str(served_archive.audio), "--title", "Encore",
                        **served_archive.env)
    assert result.returncode == 0
    assert "déjà dans l'archive" in result.stderr
    database = Database(served_archive.settings)
    with database.session() as session:
        assert session.scalar(select(func.count(Episode.id))) == 1
        assert session.scalar(select(func.count(Utterance.id))) >= 5
    database.dispose()


def test_title_words_find_the_episode_without_claiming_every_passage(served_archive):
    found = httpx.get(served_archive.url + "/api/search", params={"q": "quotidien"}).json()
    assert [e["slug"] for e in found["episodes"]] == [served_archive.slug]
    assert found["passage_count"] == 0
