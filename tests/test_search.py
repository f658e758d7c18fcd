"""Search understands French and never fails on what people type."""

from __future__ import annotations

import httpx
import pytest

from archive.analysis import french_analyzer
from tests.helpers import run_parole


def terms(text: str) -> list[str]:
    return [token.text for token in french_analyzer()(text)]


@pytest.mark.parametrize(("typed", "spoken"), [
    ("collectivite", "collectivités"),
    ("elus", "élu"),
    ("Participation", "participations"),
    ("oeuvre", "œuvres"),
    ("cooperation", "coopération"),
])
def test_accents_case_and_plurals_meet(typed, spoken):
    assert terms(typed) == terms(spoken)


def test_french_stop_words_and_fillers_are_not_indexed():
    assert terms("les élus de la commune euh") == terms("élus commune")


HOSTILE_QUERIES = [
    '"', '""', '"participation', "*", "?", ":", "a:b", "text:participation", "AND", "OR", "NOT", "AND OR NOT",
    "(", ")", "((participation", "participation)", "[", "]", "{", "}", "^", "~", "participation~",
    "-", "--", "+", "\\", "/", "'", "<script>alert(1)</script>", "%", "&", "😀", "🎙️ participation",
    "x" * 2000, "participation " * 300, "\u0000", "\t\n", "é" * 50, "1e999", "-participation",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_any_query_returns_a_page(served_archive, query):
    page = httpx.get(served_archive.url + "/recherche", params={"q": query})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    api = httpx.get(served_archive.url + "/api/search", params={"q": query})
    assert api.status_code == 200


def test_search_without_accents_finds_accented_speech(served_archive):
    found = httpx.get(served_archive.url + "/api/search", params={"q": "PARTICIPATION citoyennes"}).json()
    assert found["passage_count"] >= 1


def test_no_result_is_said_in_french(served_archive):
    page = httpx.get(served_archive.url + "/recherche", params={"q": "zxqwv"})
    assert page.status_code == 200 and "Aucun résultat" in page.text


def test_reindex_rebuilds_the_same_search(served_archive):
    before = httpx.get(served_archive.url + "/api/search", params={"q": "participation"}).json()
    result = run_parole(served_archive.data_dir, "reindex")
    assert result.returncode == 0, result.stderr
    assert "Index reconstruit" in result.stderr
    generations = [p for p in (served_archive.data_dir / "index").iterdir() if p.name.startswith("g-")]
    assert len(generations) == 1
    after = httpx.get(served_archive.url + "/api/search", params={"q": "participation"}).json()
    assert after == before
