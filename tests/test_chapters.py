"""Chapters: found by topic, titled, editable, and published for pages and podcast apps."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from lxml import etree

from archive.analysis import fold
from archive.records import Utterance
from ingest.synth import THREE_TOPICS, synthesize
from ingest.topics import chapters
from tests.conftest import make_data_dir
from tests.helpers import SHARED_TESTDATA, run_parole, start_server

NAMESPACE = SHARED_TESTDATA / "podcast-namespace"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Stems of each topic's key words, as the transcript may spell them ("budgets", "budgétaire"…).
TOPIC_STEMS = [("recrut", "candidat", "apprenti", "jury"), ("budg", "dette", "impot", "dotation", "commun", "financ"),
               ("particip", "citoyen", "quartier", "habitant")]
OPENINGS = [index for index, turn in enumerate(THREE_TOPICS) if turn.voice == "host"]


@pytest.fixture(scope="module")
def topics_episode(tmp_path_factory, model_cache):
    data = make_data_dir(tmp_path_factory, model_cache, "chapters")
    synthesis = synthesize(THREE_TOPICS)
    audio = synthesis.write_wav(data.parent / "trois-sujets.wav")
    result = run_parole(data, "ingest", str(audio), "--title", "Trois sujets", "--date", "2026-05-04")
    assert result.returncode == 0, result.stderr
    server = start_server(data)
    yield data, synthesis, audio, server
    server.stop()


def listing(data: Path) -> list[list[str]]:
    result = run_parole(data, "chapters", "trois-sujets")
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_three_topics_give_three_titled_chapters_at_the_right_places(topics_episode):
    _data, synthesis, _audio, server = topics_episode
    document = httpx.get(f"{server.base_url}/episodes/trois-sujets/chapters.json").json()
    found = document["chapters"]
    assert len(found) == 3, found
    turns = synthesis.turns
    for chapter, opening in zip(found[1:], OPENINGS[1:], strict=True):
        # Within one sentence of the truth: after the previous sentence starts, before the next one starts.
        assert turns[opening - 1].start < chapter["startTime"] < turns[opening + 1].start, (chapter, opening)
    for chapter, stems in zip(found, TOPIC_STEMS, strict=True):
        assert any(stem in fold(chapter["title"]) for stem in stems), chapter["title"]
        assert 0 < len(chapter["title"]) <= 60


def test_chapters_json_uses_the_podcast_namespace_fields(topics_episode):
    _data, _synthesis, _audio, server = topics_episode
    response = httpx.get(f"{server.base_url}/episodes/trois-sujets/chapters.json")
    assert response.headers["access-control-allow-origin"] == "*"
    example = json.loads((NAMESPACE / "examples_chapters_example.json").read_text())
    ours = response.json()
    assert set(ours) == set(example) and ours["version"] == "1.2.0"
    allowed = {key for chapter in example["chapters"] for key in chapter} | {"endTime"}
    for chapter in ours["chapters"]:
        assert {"startTime", "title"} <= set(chapter) <= allowed
    starts = [c["startTime"] for c in ours["chapters"]]
    assert starts[0] == 0 and starts == sorted(starts)


def test_feed_chapters_element_validates_against_the_namespace_schema(topics_episode):
    _data, _synthesis, _audio, server = topics_episode
    feed = etree.fromstring(httpx.get(server.base_url + "/feed.xml").content)
    elements = feed.findall(f".//{{{PODCAST_NS}}}*")
    chapters_elements = [e for e in elements if etree.QName(e).localname == "chapters"]
    assert len(chapters_elements) == 1
    assert chapters_elements[0].get("type") == "application/json+chapters"
    assert chapters_elements[0].get("url").endswith("/episodes/trois-sujets/chapters.json")
    wrapper = etree.Element(f"{{{PODCAST_NS}}}test-wrapper", nsmap={"podcast": PODCAST_NS})
    for element in elements:
        if etree.QName(element).localname != "guid":  # not in the XSD; see test_podcast_feed.py
            wrapper.append(element)
    schema = etree.XMLSchema(etree.parse(str(NAMESPACE / "podcast-wrapper.xsd")))
    assert schema.validate(wrapper), schema.error_log


def test_episode_page_lists_chapters_and_heads_the_transcript(topics_episode):
    _data, _synthesis, _audio, server = topics_episode
    page = httpx.get(f"{server.base_url}/episodes/trois-sujets").text
    assert '<nav class="chapters"' in page
    assert page.count('class="chapter-title"') == 3


def test_editing_a_title_changes_page_json_and_search_and_survives(topics_episode):
    data, _synthesis, audio, server = topics_episode
    result = run_parole(data, "chapters", "trois-sujets", "--title", "2", "Les finances de la ville")
    assert result.returncode == 0, result.stderr
    assert "Les finances de la ville (modifié)" in result.stdout
    assert "Les finances de la ville" in httpx.get(f"{server.base_url}/episodes/trois-sujets").text
    document = httpx.get(f"{server.base_url}/episodes/trois-sujets/chapters.json").json()
    titles = [c["title"] for c in document["chapters"]]
    assert titles[1] == "Les finances de la ville"
    found = httpx.get(server.base_url + "/recherche", params={"q": "finances"}).text
    assert "Chapitre :" in found and "Les finances de la ville" in found

    again = run_parole(data, "ingest", str(audio), "--title", "Trois sujets")
    assert again.returncode == 0 and "déjà" in again.stderr
    refused = run_parole(data, "chapters", "trois-sujets", "--recompute")
    assert refused.returncode == 2 and "--force" in refused.stderr
    run_parole(data, "reindex")
    assert "Les finances de la ville" in httpx.get(server.base_url + "/recherche", params={"q": "finances"}).text
    assert [row[2] for row in listing(data)][1] == "Les finances de la ville (modifié)"


def test_split_and_merge_from_the_command_line(topics_episode):
    data, _synthesis, _audio, _server = topics_episode
    before = listing(data)
    assert run_parole(data, "chapters", "trois-sujets", "--split", "35").returncode == 0
    after_split = listing(data)
    assert len(after_split) == len(before) + 1
    assert run_parole(data, "chapters", "trois-sujets", "--merge", "2").returncode == 0
    assert len(listing(data)) == len(before)
    bad = run_parole(data, "chapters", "trois-sujets", "--merge", "9")
    assert bad.returncode == 2 and "inexistant" in bad.stderr
    unknown = run_parole(data, "chapters", "episode-absent")
    assert unknown.returncode == 2 and "Épisode inconnu" in unknown.stderr


def test_single_subject_or_short_text_is_one_chapter():
    utterances = [Utterance("A", i * 3.0, i * 3.0 + 2.5, f"Le recrutement des agents, phrase {i}.") for i in range(4)]
    (only,) = chapters(utterances, 12.0, 2 / 45)
    assert only.start == 0.0 and only.end == 12.0 and only.title
    assert chapters([], 10.0, 2 / 45) == []


def test_api_gives_the_chapters(topics_episode):
    _data, _synthesis, _audio, server = topics_episode
    detail = httpx.get(f"{server.base_url}/api/episodes/trois-sujets").json()
    assert len(detail["chapters"]) >= 3
    assert all({"start", "end", "title", "keywords"} <= set(c) for c in detail["chapters"])
