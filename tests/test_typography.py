"""French typography of the machine transcript: each rule, idempotence, and what relies on it.

The words of an utterance must still join to its text (subtitle timings count characters
word by word) and search must find "l’élu" as it found "l'élu".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.records import Turn, Word
from archive.search import SearchRequest
from archive.tantivy_index import TantivyIndex
from archive.whoosh_index import WhooshIndex
from ingest.evaluation import normalise
from ingest.typography import NBSP, NNBSP, french_typography, recut, typeset_words
from ingest.utterances import build_utterances

SENTENCE = "est ce que vous pensez que les élus ont compris? oui. on a 12000 habitants et 3.5% de hausse"
TYPESET = (f"Est ce que vous pensez que les élus ont compris{NNBSP}? Oui. On a 12{NNBSP}000 habitants "
           f"et 3,5{NNBSP}% de hausse")


def test_a_whisper_sentence_comes_out_in_french_typography():
    assert french_typography(SENTENCE) == TYPESET


@pytest.mark.parametrize(("whisper", "typeset"), [
    ("vous êtes à Kingersheim?", f"Vous êtes à Kingersheim{NNBSP}?"),
    ("c'est formidable !", f"C’est formidable{NNBSP}!"),
    ("non ; pas du tout", f"Non{NNBSP}; pas du tout"),
    ("quoi?! vraiment", f"Quoi{NNBSP}?! Vraiment"),
    ("trois choses: le budget", f"Trois choses{NBSP}: le budget"),
    ("trois choses : le budget", f"Trois choses{NBSP}: le budget"),
    (f"trois choses{NNBSP}{NBSP} :", f"Trois choses{NBSP}:"),
    ("vous pensez   ?", f"Vous pensez{NNBSP}?"),
])
def test_no_break_space_before_high_punctuation(whisper, typeset):
    assert french_typography(whisper) == typeset


@pytest.mark.parametrize("verbatim", [
    "rendez-vous à 10:30 à la mairie",
    "le score était de 2:1",
    "tout est sur https://www.kingersheim.fr/?page=2&x=1;y=2",
    "écrivez à jean.dupont@mairie-kingersheim.fr",
    "www.parole.fr",
])
def test_urls_addresses_and_times_are_left_as_written(verbatim):
    typeset = french_typography(verbatim)
    assert typeset[1:] == verbatim[1:]
    assert typeset[0] in (verbatim[0], verbatim[0].upper())


def test_punctuation_after_a_url_is_spaced_but_the_url_is_not():
    assert french_typography("allez sur https://parole.fr/?q=élu? merci") == (
        f"Allez sur https://parole.fr/?q=élu{NNBSP}? Merci")


@pytest.mark.parametrize(("whisper", "typeset"), [
    ("l'élu d'aujourd'hui", "L’élu d’aujourd’hui"),
    ("jusqu'à présent, qu'il soit là", "Jusqu’à présent, qu’il soit là"),
    ("l’élu", "L’élu"),
    ("'bonjour' 3'", "'bonjour' 3'"),  # not between two letters: not an apostrophe
])
def test_apostrophes_between_letters_are_curly(whisper, typeset):
    assert french_typography(whisper) == typeset


@pytest.mark.parametrize(("whisper", "typeset"), [
    ('on appelle ça "le service public" ici', f"On appelle ça «{NBSP}le service public{NBSP}» ici"),
    ('il a dit " on y va "', f"Il a dit «{NBSP}on y va{NBSP}»"),
    ("il a dit “on y va”", f"Il a dit «{NBSP}on y va{NBSP}»"),
    ("il a dit « on y va »", f"Il a dit «{NBSP}on y va{NBSP}»"),
    ('un seul " guillemet', 'Un seul " guillemet'),
    ('des "" vides', 'Des "" vides'),
])
def test_double_quotes_become_guillemets(whisper, typeset):
    assert french_typography(whisper) == typeset


@pytest.mark.parametrize(("whisper", "typeset"), [
    ("10000 habitants", f"10{NNBSP}000 habitants"),
    ("10 000 habitants", f"10{NNBSP}000 habitants"),
    ("10.000 habitants", f"10{NNBSP}000 habitants"),
    ("1500000 euros", f"1{NNBSP}500{NNBSP}000 euros"),
    ("1.500.000 €", f"1{NNBSP}500{NNBSP}000 €"),
    ("en 2024 et en 1998", "En 2024 et en 1998"),
    ("3.5 millions", "3,5 millions"),
    ("3,5 millions", "3,5 millions"),
    ("0.75 point", "0,75 point"),
    ("20%", f"20{NNBSP}%"),
    ("20 % des agents", f"20{NNBSP}% des agents"),
    ("3.5% de hausse", f"3,5{NNBSP}% de hausse"),
    ("125000,50 euros", f"125{NNBSP}000,50 euros"),
    ("pi vaut 3,14159", "Pi vaut 3,14159"),
    ("le 12.05.2024", "Le 12.05.2024"),  # a date, not a number
    ("1.500 personnes", "1.500 personnes"),  # 1,5 or 1 500: left as Whisper wrote it
    ("appelez le 0389571234", "Appelez le 0389571234"),  # a leading zero: a phone number, not a quantity
    ("vingt euros", "Vingt euros"),
])
def test_numbers_are_written_one_way(whisper, typeset):
    assert french_typography(whisper) == typeset


@pytest.mark.parametrize(("whisper", "typeset"), [
    ("oui. on a fini", "Oui. On a fini"),
    ("vraiment? oui! d'accord… écoutez", f"Vraiment{NNBSP}? Oui{NNBSP}! D’accord… Écoutez"),
    ("bon... alors", "Bon... Alors"),
    ("oui. « non »", f"Oui. «{NBSP}Non{NBSP}»"),
    ("on a vu M. le maire", "On a vu M. le maire"),
    ("oui. iPhone", "Oui. IPhone"),
    ("oui. 12 agents", "Oui. 12 agents"),
    ("Kingersheim. SNCF", "Kingersheim. SNCF"),
    ("écoutez. élus", "Écoutez. Élus"),
])
def test_sentences_start_with_a_capital(whisper, typeset):
    assert french_typography(whisper) == typeset


def test_a_text_that_continues_a_sentence_keeps_its_first_letter():
    assert french_typography("et donc. voilà", sentence_start=False) == "et donc. Voilà"


@pytest.mark.parametrize("text", ["", " ", "?", "?!", "...", "…", ":", ";", "«", "»", '"', "%", "'", "  \t\n "])
def test_edge_cases_do_not_fail(text):
    typeset = french_typography(text)
    assert typeset == typeset.strip()
    assert french_typography(typeset) == typeset


def test_runs_of_spaces_are_collapsed():
    assert french_typography("  on   a\tdit \n oui  ") == "On a dit oui"


@pytest.mark.parametrize("correct", [
    TYPESET,
    f"L’élu a dit{NBSP}: «{NBSP}C’est 10{NNBSP}000 habitants{NBSP}», pas 3,5{NNBSP}%.",
    "Rendez-vous à 10:30 sur https://parole.fr.",
])
def test_correct_text_is_left_unchanged(correct):
    assert french_typography(correct) == correct


WHISPER_PIECES = ["l'", "élu", "'", '"', "?", "!", ":", ";", ".", "…", "%", " ", "  ", "12000", "10.000", "3.5",
                  "10:30", "https://parole.fr/?q=1", "oui", "Kingersheim", NBSP, NNBSP, "«", "»", "é", "ß", "\n"]
whisper_text = st.lists(st.one_of(st.sampled_from(WHISPER_PIECES), st.text(max_size=5)), max_size=20).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(whisper_text, st.booleans())
def test_typography_is_idempotent(text, sentence_start):
    typeset = french_typography(text, sentence_start)
    assert french_typography(typeset, sentence_start) == typeset


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(whisper_text, max_size=8), st.booleans())
def test_typeset_words_still_join_to_the_text(pieces, sentence_start):
    text, words = typeset_words(pieces, sentence_start)
    assert len(words) == len(pieces)
    assert "".join(words).strip() == text


def test_words_carry_the_typography_of_the_text():
    text, words = typeset_words([" est", " ce", " que", " vous", " pensez?", " oui.", " on", " a", " 12000",
                                 " habitants", ' "c\'est', ' bien"'])
    assert words == [" Est", " ce", " que", " vous", f" pensez{NNBSP}?", " Oui.", " On", " a", f" 12{NNBSP}000",
                     " habitants", f" «{NBSP}c’est", f" bien{NBSP}»"]
    assert "".join(words).strip() == text


def test_a_space_added_at_a_cut_goes_with_the_next_word():
    assert recut([" pensez", "?", " 10", " 000"], f" pensez{NNBSP}? 10{NNBSP}000") == [
        " pensez", f"{NNBSP}?", " 10", f"{NNBSP}000"]


def word(text: str, start: float) -> Word:
    return Word(text, start, start + 0.4, 0.9)


def test_build_utterances_gives_typeset_text_and_words():
    words = [word(text, 0.5 * i) for i, text in enumerate(
        [" est", " ce", " que", " vous", " pensez", " que", " l'élu", " a", " compris?", " oui.", " on", " a",
         " 12000", " habitants", " et", " 3.5%", " de", " hausse."])]
    first, second, third = build_utterances(words, [Turn("SPEAKER_1", 0.0, 20.0)])
    assert first.text == f"Est ce que vous pensez que l’élu a compris{NNBSP}?"
    assert second.text == "Oui."
    assert third.text == f"On a 12{NNBSP}000 habitants et 3,5{NNBSP}% de hausse."
    for utterance in (first, second, third):
        assert "".join(w.text for w in utterance.words).strip() == utterance.text
    assert [w.text for w in first.words][-3:] == [" l’élu", " a", f" compris{NNBSP}?"]
    assert first.words[0].text == " Est" and second.words[0].text == " Oui."
    assert [(w.start, w.end, w.probability) for u in (first, second, third) for w in u.words] == [
        (w.start, w.end, w.probability) for w in words]


def test_a_sentence_cut_by_a_pause_keeps_its_lower_case_but_a_new_speaker_gets_a_capital():
    words = [word(" on", 0.0), word(" a", 0.5), word(" décidé", 3.0), word(" oui", 6.0)]
    turns = [Turn("SPEAKER_1", 0.0, 5.0), Turn("SPEAKER_2", 5.5, 7.0)]
    assert [u.text for u in build_utterances(words, turns)] == ["On a", "décidé", "Oui"]


def test_word_error_rate_reads_typeset_and_plain_text_the_same():
    assert normalise(TYPESET) == normalise(SENTENCE)
    assert normalise(f"L’élu a dit{NBSP}: «{NBSP}10{NNBSP}000{NBSP}»") == normalise('l\'élu a dit: "10000"')


def _passage(number: int, text: str) -> dict:
    return {"doc_id": f"u{number}", "kind": "utterance", "episode_id": "1", "slug": "budget", "date": "2026-01-01",
            "year": "2026", "episode_title": "Le budget", "text": text, "start_ms": 1000 * number,
            "end_ms": 1000 * number + 900}


@pytest.mark.parametrize("engine", [WhooshIndex, TantivyIndex])
def test_search_finds_typeset_text_as_it_found_plain_text(engine, tmp_path):
    index = engine(tmp_path / "index")
    index.replace_documents("1", [
        _passage(1, french_typography("l'élu a parlé du budget participatif? oui.")),
        _passage(2, french_typography("aujourd'hui: la commune compte 12000 habitants!")),
        _passage(3, "rien à voir"),
    ])

    def found(query: str) -> list[float]:
        results = index.search(SearchRequest(text=query))
        return sorted(passage.start for group in results.episodes for passage in group.passages)

    assert found("élu") == found("l'élu") == found("l’élu") == found("élus") == [1.0]
    assert found("participatif") == found("budget participatif") == [1.0]
    assert found(f'"budget participatif{NNBSP}?"') == [1.0]
    assert found("aujourd’hui") == found("aujourd'hui") == found("commune") == [2.0]
    assert found("12") == found(f"12{NNBSP}000") == [2.0]
    assert found(f"habitants{NNBSP}!") == [2.0]
    highlighted = index.search(SearchRequest(text="élu")).episodes[0].passages[0].snippet_html
    assert "L’<mark>élu</mark>" in highlighted
