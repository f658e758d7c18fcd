"""Whatever a person types, the search answers, and it answers what was asked.

Hypothesis feeds the query parser any text (Unicode, quotes, unbalanced parentheses,
operators, control characters, huge lengths) and searches a small real index of each
engine, built in a temporary folder, with the generated queries and filters.
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.query import Query

from archive import query as typed
from archive.analysis import FRENCH_STOP_WORDS, index_terms
from archive.search import SearchRequest
from archive.snippets import snippet
from archive.tantivy_index import TantivyIndex
from archive.whoosh_index import WhooshIndex

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SAID = [
    "Bonjour et bienvenue dans l'émission consacrée à la participation citoyenne.",
    "Le budget participatif permet aux habitants de proposer des projets.",
    "Les élus de la commune écoutent les habitants chaque mois.",
    "Nous avons voté le budget de la médiathèque avec les associations.",
    "La participation des jeunes reste faible, hélas, malgré nos efforts.",
    "Un conseil de quartier se réunit dans chaque école de la ville.",
    "Les agents territoriaux accompagnent les projets des citoyens.",
    "Œuvrer pour la coopération entre collectivités, c'est notre métier.",
    "Ce travail a du sens pour les habitants.",
]
WORDS = sorted({word for sentence in SAID for word in re.findall(r"[\w']+", sentence) if index_terms(word)})
SYNTAX = ['"', "'", "-", "+", "OR", "AND", "NOT", "(", ")", "*", "?", "~", "^", ":", "[", "]", "{", "}", "\\", "/",
          "«", "»", "TO", "text:", "*:*", "\x00", "\x07", "\u202e", "😀", "<b>", "&amp;"]


def passage_fields(episode: int, number: int, said: str) -> dict:
    """An utterance document as archive.indexing makes it: who speaks and the chapter are searched too."""
    guest = number % 2 == 1
    chapter = "Le budget" if number < 4 else "Les jeunes"
    return {"episode_id": str(episode), "slug": f"episode-{episode}", "date": f"202{episode}-03-12",
            "year": f"202{episode}", "episode_title": f"Épisode {episode}", "doc_id": f"u{episode}-{number}",
            "kind": "utterance", "text": said, "chapter": chapter, "chapter_key": chapter,
            "speaker": "Jo Spiegel" if guest else "Animatrice", "person_slug": "jo-spiegel" if guest else "",
            "person_name": "Jo Spiegel" if guest else "", "person_role": "maire" if guest else "",
            "organisation": "Kingersheim" if guest else "", "organisation_key": "Kingersheim" if guest else "",
            "who": "Jo Spiegel maire Kingersheim" if guest else "", "start_ms": number * 4000,
            "end_ms": number * 4000 + 3500}


def documents() -> list[dict]:
    """Two episodes that say the same sentences, with their episode and chapter documents."""
    result = []
    for episode in (1, 2):
        common = {"episode_id": str(episode), "slug": f"episode-{episode}", "date": f"202{episode}-03-12",
                  "year": f"202{episode}", "episode_title": f"Épisode {episode}"}
        result.append({**common, "doc_id": f"e{episode}", "kind": "episode", "title": f"Épisode {episode} : budget",
                       "description": "La participation des habitants.", "guests": "Jo Spiegel maire",
                       "start_ms": 0, "end_ms": 40_000})
        result.append({**common, "doc_id": f"c{episode}", "kind": "chapter", "chapter_title": "Le budget",
                       "keywords": "budget habitants", "start_ms": 0, "end_ms": 16_000})
        result += [passage_fields(episode, number, said) for number, said in enumerate(SAID)]
    return result


PASSAGES = {fields["doc_id"]: fields for fields in documents() if fields["kind"] == "utterance"}


@pytest.fixture(scope="module", params=["whoosh", "tantivy"])
def index(request, tmp_path_factory):
    engine = {"whoosh": WhooshIndex, "tantivy": TantivyIndex}[request.param]
    built = engine(tmp_path_factory.mktemp(request.param))
    built.rebuild_from(documents())
    return built


def searched_terms(doc_id: str) -> list[str]:
    """The terms a passage is found by: what was said, its chapter, who says it."""
    fields = PASSAGES[doc_id]
    return index_terms(" ".join([fields["text"], fields["chapter"], fields["who"]]))


def contains(terms: list[str], sequence: list[str]) -> bool:
    return any(terms[at:at + len(sequence)] == sequence for at in range(len(terms) - len(sequence) + 1))


def passages(results) -> list:
    return [passage for group in results.episodes for passage in group.passages]


token = st.one_of(st.sampled_from(WORDS), st.sampled_from(SYNTAX), st.sampled_from(WORDS).map(lambda w: f"-{w}"),
                  st.text(st.characters(exclude_categories=["Cs"]), max_size=6))
spacing = st.sampled_from([" ", "", "  ", "\t", "\n"])
typed_queries = st.lists(st.tuples(token, spacing), max_size=12).map(lambda parts: "".join(a + b for a, b in parts))
huge = st.builds(lambda piece, times: piece * times, st.sampled_from(["participation ", "(", '"', "-", "é", "x"]),
                 st.integers(min_value=100, max_value=5000))
any_query = st.one_of(typed_queries, st.text(st.characters(exclude_categories=["Cs"])), huge)


@FUZZ
@given(text=any_query)
def test_any_text_parses_the_same_way_every_time(text):
    for fields in (typed.PASSAGE_FIELDS, typed.CHAPTER_FIELDS, typed.EPISODE_FIELDS):
        first = typed.parse(typed.clean(text), fields)
        assert first is None or isinstance(first, Query)
        assert first == typed.parse(typed.clean(text), fields)
        assert repr(first) == repr(typed.parse(typed.clean(text), fields))
    assert len(typed.clean(text)) <= typed.MAX_QUERY_LENGTH


@FUZZ
@given(text=any_query, page=st.integers(min_value=1, max_value=6), by_date=st.booleans(),
       personne=st.sampled_from(["", "jo-spiegel", "inconnu"]), annee=st.sampled_from(["", "2021", "1999"]),
       theme=st.sampled_from(["", "Le budget", "<b>"]))
def test_any_text_gets_a_consistent_page_of_results(index, text, page, by_date, personne, annee, theme):
    request = SearchRequest(text=text, page=page, sort="date" if by_date else "pertinence", personne=personne,
                            annee=annee, theme=theme, per_page=3)
    results = index.search(request)
    shown = passages(results)
    assert 1 <= results.page <= results.pages and len(shown) <= request.per_page
    assert len(shown) <= results.passage_count
    if results.passage_count:
        assert shown, "a page within the results is never empty"
    for passage in shown:
        fields = PASSAGES[passage.utterance_doc]
        assert not personne or fields["person_slug"] == personne
        assert not annee or fields["year"] == annee
        assert not theme or fields["chapter_key"] == theme
        unmarked = passage.snippet_html.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in unmarked and html.unescape(unmarked).strip(" …") in fields["text"]


words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)


def misspelt(word: str) -> st.SearchStrategy[str]:
    """The word as typed, or with one letter dropped or doubled: the fuzzy search then has to step in."""
    if len(word) < 6:
        return st.just(word)
    return st.sampled_from([word, word[:3] + word[4:], word[:3] + word[3] + word[3:]])


@FUZZ
@given(wanted=words.flatmap(lambda chosen: st.tuples(*map(misspelt, chosen))), banned=words,
       form=st.sampled_from(["{wanted} -{banned}", "-{banned} {wanted}", "{wanted} (-{banned})",
                             "({wanted} -{banned})", "{wanted} OR {wanted} -{banned}", "+{wanted} -{banned}"]))
def test_excluded_words_never_appear_in_the_passages_found(index, wanted, banned, form):
    text = form.format(wanted=" ".join(wanted), banned=" -".join(banned))
    excluded = [index_terms(word) for word in banned]
    for passage in passages(index.search(SearchRequest(text=text, per_page=50))):
        terms = searched_terms(passage.utterance_doc)
        assert not any(contains(terms, sequence) for sequence in excluded), (text, passage.utterance_doc)


@FUZZ
@given(wanted=words, banned=st.sampled_from(WORDS))
def test_an_excluded_phrase_or_a_not_keeps_its_passages_out(index, wanted, banned):
    for text in (f'{" ".join(wanted)} -"{banned}"', f"{' '.join(wanted)} NOT {banned}"):
        for passage in passages(index.search(SearchRequest(text=text, per_page=50))):
            assert not contains(searched_terms(passage.utterance_doc), index_terms(banned)), text


@FUZZ
@given(wanted=words)
def test_every_word_asked_for_is_in_each_passage_found(index, wanted):
    results = index.search(SearchRequest(text=" ".join(wanted), per_page=50))
    for passage in passages(results) if not results.fuzzy else []:  # the fuzzy fallback finds near words
        terms = searched_terms(passage.utterance_doc)
        assert all(term in terms for word in wanted for term in index_terms(word))


@FUZZ
@given(text=typed_queries)
def test_exclusions_alone_look_for_nothing(text):
    """Only "-" words and NOT: no passage is wanted, so none is shown (not every passage of the archive)."""
    excluded_only = " ".join(f"-{word}" for word in re.findall(r"\w+", text)) + " NOT budget"
    assert typed.parse(excluded_only, typed.PASSAGE_FIELDS) is None


@FUZZ
@given(wanted=words.flatmap(lambda chosen: st.tuples(*map(misspelt, chosen))),
       syntax=st.lists(st.sampled_from(['"', "-", "OR", "(", ")"]), max_size=3))
def test_a_suggestion_asks_the_same_question(index, wanted, syntax):
    """"Vouliez-vous dire" changes spellings only: quotes, "-" and OR stay where they were typed."""
    text = " ".join([*syntax, *wanted])
    results = index.search(SearchRequest(text=text))
    if results.suggestion is not None:
        assert re.sub(r"\w+", "w", results.suggestion).split() == re.sub(r"\w+", "w", text).split()
        assert results.suggestion != text


@FUZZ
@given(chosen=st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(sorted(FRENCH_STOP_WORDS))), min_size=1,
                       max_size=4))
def test_words_spelt_right_get_no_suggestion(index, chosen):
    """Plurals said in the archive and stop words ("sans", never a typo of "sens") are not corrected."""
    assert index.search(SearchRequest(text=" ".join(chosen))).suggestion is None


@FUZZ
@given(said=st.one_of(st.sampled_from(SAID), st.text(st.characters(exclude_categories=["Cs"]), max_size=400)),
       chosen=st.lists(st.sampled_from(WORDS), max_size=3))
def test_snippets_escape_what_was_said_and_mark_only_whole_words(said, chosen):
    terms = {term for word in chosen for term in index_terms(word)}
    shown = snippet(said, terms)
    marked = re.findall(r"<mark>(.*?)</mark>", shown)
    unmarked = re.sub(r"</?mark>", "", shown)
    assert "<" not in unmarked and ">" not in unmarked
    assert html.unescape(unmarked).strip(" …") in said
    assert all(index_terms(html.unescape(word))[0] in terms for word in marked)
