"""The public JSON API keeps its OpenAPI contract whatever a client sends.

schemathesis reads /api/openapi.json from a real ``parole serve`` and sends generated
requests, valid and invalid, to every /api operation: no answer may be a server error,
and every answer must be documented (status code, content type, body schema); a request
the schema forbids must be refused with a 4xx, and one it allows must not be.
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

API_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.positive_data_acceptance,
]
FUZZ_SETTINGS = settings(max_examples=200, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
API_OPERATIONS = ["GET /api/episodes", "GET /api/episodes/{slug}", "GET /api/search"]


@pytest.fixture(scope="module")
def api_schema(served_archive):
    """The API's own OpenAPI schema, /api operations only (the site's pages are HTML, not the JSON API)."""
    return schemathesis.openapi.from_url(served_archive.url + "/api/openapi.json").include(path_regex="^/api/")


def test_every_api_operation_is_fuzzed(api_schema):
    assert sorted(result.ok().label for result in api_schema.get_all_operations()) == API_OPERATIONS


# Only the search has parameters a request can get wrong: negative (schema-breaking) requests go there.
FUZZ_RUNS = [(label, GenerationMode.POSITIVE) for label in API_OPERATIONS] + [
    ("GET /api/search", GenerationMode.NEGATIVE)]


@pytest.mark.parametrize(("label", "mode"), FUZZ_RUNS, ids=[f"{label}-{mode}" for label, mode in FUZZ_RUNS])
def test_api_operation_keeps_its_contract(api_schema, served_archive, label, mode):
    """Generated requests, valid ones and ones the schema forbids, get documented answers.

    Generated slugs almost never name an episode, so the real one is drawn too: the fuzzing
    then also reaches a real episode's transcript, not only the 404 path.
    """
    method, path = label.split(" ")
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=mode)
    if "{slug}" in path:
        real = operation.as_strategy(generation_mode=mode, path_parameters={"slug": served_archive.slug})
        strategy = st.one_of(strategy, real)

    @FUZZ_SETTINGS
    @given(case=strategy)
    def answers_by_the_schema(case):
        case.call_and_validate(checks=API_CHECKS, timeout=60)

    answers_by_the_schema()


def test_schema_documents_every_api_error_in_french_shape(served_archive):
    """Each /api operation documents its refusals with the body it really sends: ``{"detail": "…"}``."""
    raw = httpx.get(served_archive.url + "/api/openapi.json").json()
    for path, methods in raw["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            errors = {code: answer for code, answer in operation["responses"].items() if code.startswith("4")}
            assert "422" not in errors, f"{method.upper()} {path}: FastAPI's English 422 is never sent"
            assert errors, f"{method.upper()} {path} documents no client error"
            for answer in errors.values():
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


SYNTAX = ['"', "-", "OR", "AND", "NOT", "(", ")", "*", "~", "^", ":", "+", "«", "»", "'"]


@pytest.fixture(scope="module")
def spoken_words(served_archive) -> list[str]:
    """Words really said in the served episode, so generated searches also find passages."""
    detail = httpx.get(f"{served_archive.url}/api/episodes/{served_archive.slug}").json()
    words = {word for utterance in detail["transcript"] for word in re.findall(r"\w+", utterance["text"])}
    return sorted(word for word in words if len(word) > 2)


def realistic_search(words: list[str], person_slug: str) -> st.SearchStrategy[dict]:
    """Queries made of spoken words and search syntax, with the filters a listener really uses."""
    token = st.one_of(st.sampled_from(words), st.sampled_from(SYNTAX),
                      st.sampled_from(words).map(lambda word: f"-{word}"),
                      st.sampled_from(words).map(lambda word: word.upper()))
    text = st.lists(token, min_size=1, max_size=8).map(" ".join)
    return st.fixed_dictionaries({"q": text}, optional={
        "personne": st.sampled_from([person_slug, "personne-inconnue"]),
        "annee": st.sampled_from(["2026", "1999"]),
        "tri": st.sampled_from(["pertinence", "date"]),
        "page": st.integers(min_value=1, max_value=4),
    })


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_searches_with_spoken_words_keep_the_contract(api_schema, spoken_words, data):
    """Searches that do find passages (highlighted snippets, facets, pages) answer by the schema too."""
    params = data.draw(realistic_search(spoken_words, "jo-spiegel"))
    operation = api_schema["/api/search"]["GET"]
    response = operation.Case(query=params).call_and_validate(checks=API_CHECKS, timeout=60)
    assert response.status_code == 200
    found = response.json()
    assert found["page"] <= found["pages"]
    assert sum(len(group["passages"]) for group in found["episodes"]) <= found["passage_count"]


def test_a_refused_parameter_is_named_in_french(served_archive):
    answer = httpx.get(served_archive.url + "/api/search", params={"q": "participation", "page": "0"})
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Paramètre invalide — « page » : un nombre entier de 1 à 99 999."}
    answer = httpx.get(served_archive.url + "/api/search", params={"q": "x" * 501, "tri": "hasard"})
    assert answer.status_code == 400
    assert "« q » : 500 caractères au plus" in answer.json()["detail"]
    assert "« tri » : « pertinence » ou « date »" in answer.json()["detail"]
