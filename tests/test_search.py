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


def random_hostile_queries(count: int = 200, seed: int = 11) -> list[dict[str, str]]:
    """Deterministic random mixes of words, syntax, control characters, emoji and odd filters."""
    import random

    rng = random.Random(seed)
    pieces = ['"', "(", ")", "[", "]", "{", "}", "*", "?", ":", "^", "~", "-", "+", "\\", "/", "'", "AND", "OR",
              "NOT", "participation", "élus", "budget", "\x00", "\x07", "\u202e", "😀", "🎙️", "<b>", "&amp;", "%",
              "TO", "[a TO z]", "text:", "*:*", "é" * 30, "x" * 300]
    queries = [{"q": query} for query in HOSTILE_QUERIES]
    while len(queries) < count:
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        params = {"q": text}
        if rng.random() < 0.3:
            params[rng.choice(["personne", "organisation", "theme", "annee", "page", "tri"])] = rng.choice(
                ["-1", "abc", "99999999999", "<script>", "😀", "", "../../etc/passwd", "2024", "date"])
        queries.append(params)
    queries.append({"q": "participation " * 700})  # about 10,000 characters
    return queries


def test_two_hundred_hostile_queries_never_fail(served_archive):
    statuses = {}
    with httpx.Client(base_url=served_archive.url, timeout=30) as client:
        for params in random_hostile_queries():
            for path in ("/recherche", "/api/search"):
                response = client.get(path, params=params)
                statuses.setdefault(response.status_code, []).append(params)
                if response.status_code == 400:
                    assert response.json()["detail"] if path.startswith("/api") else "Requête" in response.text
                if path == "/recherche":
                    assert "<script>alert(1)</script>" not in response.text and "<script>" not in response.text.split(
                        "</header>")[1].replace('<script src="/static/player.js" defer></script>', "")
    assert set(statuses) <= {200, 400}, {code: params[:3] for code, params in statuses.items()}


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


def test_search_inside_an_episode_highlights_its_transcript(served_archive):
    page = httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}", params={"q": "participation"})
    assert page.status_code == 200
    assert 'class="utterance match"' in page.text and "<mark" in page.text
    assert "surlignés ci-dessous" in page.text
    nothing = httpx.get(f"{served_archive.url}/episodes/{served_archive.slug}", params={"q": "zxqwv"})
    assert "0 passage correspond" in nothing.text and 'class="utterance match"' not in nothing.text


def test_results_page_offers_facets_sort_and_keeps_the_query(served_archive):
    page = httpx.get(served_archive.url + "/recherche", params={"q": "participation", "tri": "date"})
    assert page.status_code == 200
    assert 'value="participation"' in page.text
    assert '<option value="date" selected>' in page.text
    assert "Année" in page.text and "annee=2026" in page.text
    api = httpx.get(served_archive.url + "/api/search", params={"q": "participation", "annee": "1999"}).json()
    assert api["passage_count"] == 0
