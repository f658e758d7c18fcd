"""The tantivy engine, chosen in the settings, serves the same search as Whoosh through the real server."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import run_parole, start_server
from tests.test_search import random_hostile_queries

QUERIES = ["participation", "PARTICIPATION citoyennes", '"participation citoyenne"', "habitants -budget",
           "partisipation", "Jo Spiegel", "zxqwv"]


@pytest.fixture(scope="module")
def tantivy_server(served_archive):
    """A second server on the same archive with PAROLE_SEARCH_ENGINE=tantivy: its index is built from the store."""
    server = start_server(served_archive.data_dir, PAROLE_SEARCH_ENGINE="tantivy")
    yield server
    server.stop()


def found(base_url: str, query: str) -> tuple:
    answer = httpx.get(base_url + "/api/search", params={"q": query}, timeout=30).json()
    passages = sorted(p["start"] for group in answer["episodes"] for p in group["passages"])
    return answer["passage_count"], passages, answer["suggestion"], answer["fuzzy"]


def test_tantivy_finds_what_whoosh_finds(served_archive, tantivy_server):
    assert (served_archive.data_dir / "index-tantivy" / "CURRENT").exists()
    for query in QUERIES:
        assert found(tantivy_server.base_url, query) == found(served_archive.url, query), query
    page = httpx.get(tantivy_server.base_url + "/recherche", params={"q": "participation"})
    assert page.status_code == 200 and "<mark>" in page.text and f"/episodes/{served_archive.slug}#t=" in page.text


def test_hostile_queries_never_fail_on_tantivy(tantivy_server):
    statuses = {}
    with httpx.Client(base_url=tantivy_server.base_url, timeout=30) as client:
        for params in random_hostile_queries():
            response = client.get("/api/search", params=params)
            statuses.setdefault(response.status_code, []).append(params)
    assert set(statuses) <= {200, 400}, {code: params[:3] for code, params in statuses.items()}


def test_reindex_and_episode_search_on_tantivy(served_archive, tantivy_server):
    before = found(tantivy_server.base_url, "participation")
    result = run_parole(served_archive.data_dir, "reindex", PAROLE_SEARCH_ENGINE="tantivy")
    assert result.returncode == 0, result.stderr
    assert found(tantivy_server.base_url, "participation") == before
    page = httpx.get(f"{tantivy_server.base_url}/episodes/{served_archive.slug}", params={"q": "participation"})
    assert 'class="utterance match"' in page.text and "<mark>" in page.text
