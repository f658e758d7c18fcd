"""What Whisper invents is kept out: loops, words over silence or noise, stock phrases, the prompt read back."""

from __future__ import annotations

import numpy as np
import pytest

from archive.records import Word
from archive.settings import Settings
from ingest.audio import load_audio
from ingest.evaluation import repeated_loops
from ingest.guards import drop_loops, drop_outside_speech, echoes_prompt, is_stock_phrase
from ingest.speech_map import MAX_PIECE, Span, plan_chunks, plan_pieces
from ingest.synth import Turn, synthesize
from ingest.transcribe import transcribe
from tests.helpers import write_wav


def words_of(text: str, step: float = 0.4) -> list[Word]:
    return [Word(" " + token, i * step, i * step + step * 0.8, 0.9) for i, token in enumerate(text.split())]


def text_of(words: list[Word]) -> str:
    return "".join(word.text for word in words).strip()


def test_a_looping_phrase_is_kept_once():
    words = words_of("on a voté le budget le budget le budget le budget et ensuite")
    kept, dropped = drop_loops(words)
    assert text_of(kept) == "on a voté le budget et ensuite"
    assert dropped == 6


def test_ordinary_repetitions_stay():
    for text in ("non non non c'est fini", "merci merci beaucoup", "c'est bien c'est bien voilà"):
        assert text_of(drop_loops(words_of(text))[0]) == text


def test_a_single_word_said_over_and_over_is_a_loop():
    kept, _ = drop_loops(words_of("oui oui oui oui oui oui oui d'accord"))
    assert text_of(kept) == "oui d'accord"


def test_words_outside_speech_are_dropped():
    words = [Word(" bonjour", 1.0, 1.4, 0.9), Word(" merci", 30.0, 30.5, 0.4), Word(" à", 61.0, 61.2, 0.9)]
    kept, dropped = drop_outside_speech(words, [Span(0.8, 5.0), Span(60.5, 70.0)])
    assert [word.text for word in kept] == [" bonjour", " à"]
    assert dropped == 1


def test_stock_subtitle_phrases_and_the_prompt_read_back_are_recognised():
    assert is_stock_phrase(" Sous-titrage Société Radio-Canada")
    assert is_stock_phrase("Merci d’avoir regardé !")
    assert not is_stock_phrase(" Merci d'avoir regardé le budget avec nous.")
    prompt = "Jo Spiegel, maire de Kingersheim, Kingersheim, CNFPT"
    assert echoes_prompt(" Jo Spiegel, maire de Kingersheim, Kingersheim, CNFPT", prompt)
    assert not echoes_prompt(" Nous sommes à Kingersheim avec le maire de Kingersheim.", prompt)
    assert not echoes_prompt(" Le CNFPT, la commune, les habitants, tout le monde.", prompt)


def test_pieces_are_short_and_cut_at_the_widest_pause():
    spans = [Span(0, 8), Span(8.3, 15), Span(17, 24), Span(24.2, 30), Span(30.3, 41)]
    pieces = plan_pieces(spans)
    assert all(piece.duration <= MAX_PIECE for piece in pieces)
    assert pieces[0] == Span(0, 15)  # cut at the 2 s pause, not at the 0.2 s one
    assert pieces[-1].end == 41
    one_long_span = plan_pieces([Span(0, 70)])
    assert len(one_long_span) == 3 and all(piece.duration <= MAX_PIECE for piece in one_long_span)


def test_chunks_never_split_a_piece():
    pieces = [Span(i * 20.0, i * 20.0 + 18) for i in range(10)]
    chunks = plan_chunks(pieces, 60)
    assert [piece for chunk in chunks for piece in chunk] == pieces
    assert all(chunk[-1].end - chunk[0].start <= 60 for chunk in chunks)


SPOKEN = [
    Turn("narrator", "Le conseil municipal a voté le budget participatif au mois de mars."),
    Turn("narrator", "Les habitants ont choisi des projets pour leur quartier."),
    Turn("narrator", "La médiathèque accueille le public tous les jours de la semaine."),
]


@pytest.fixture(scope="module")
def silences_and_noise(tmp_path_factory):
    """Ten minutes: three sentences, and between them long silences, hiss, hum and crackle."""
    rng = np.random.default_rng(7)
    rate = 16_000

    def speech(turn: Turn) -> np.ndarray:
        synthesis = synthesize([turn], gap=0.0, lead=0.0)
        wav = synthesis.write_wav(tmp_path_factory.mktemp("phrase") / "phrase.wav")
        return load_audio(wav).samples

    def seconds(n: float) -> int:
        return int(n * rate)

    hum = 0.05 * np.sin(2 * np.pi * 50 * np.arange(seconds(60)) / rate)
    crackle = np.zeros(seconds(75))
    crackle[rng.integers(0, len(crackle), 400)] = rng.uniform(-0.5, 0.5, 400)
    parts = [
        ("silence", np.zeros(seconds(20))),
        ("speech", speech(SPOKEN[0])),
        ("silence", np.zeros(seconds(120))),
        ("noise", 0.03 * rng.standard_normal(seconds(90))),
        ("speech", speech(SPOKEN[1])),
        ("noise", hum + 0.01 * rng.standard_normal(len(hum))),
        ("silence", np.zeros(seconds(150))),
        ("speech", speech(SPOKEN[2])),
        ("noise", crackle),
    ]
    used = sum(len(samples) for _, samples in parts)
    parts.append(("silence", np.zeros(max(0, seconds(600) - used))))
    intervals, position = [], 0.0
    for kind, samples in parts:
        intervals.append((kind, position, position + len(samples) / rate))
        position += len(samples) / rate
    path = write_wav(tmp_path_factory.mktemp("bruit") / "dix-minutes.wav", np.concatenate([s for _, s in parts]))
    return load_audio(path), intervals


def test_ten_minutes_of_silences_and_noise_give_no_loop_and_no_word_outside_speech(silences_and_noise, fresh_data):
    audio, intervals = silences_and_noise
    assert audio.duration >= 599
    words = transcribe(audio, Settings(data_dir=fresh_data))

    text = text_of(words)
    assert repeated_loops(text) == 0
    assert drop_loops(words)[1] == 0
    quiet = [(start, end) for kind, start, end in intervals if kind != "speech"]
    over_quiet = [word for word in words if any(start + 0.5 < (word.start + word.end) / 2 < end - 0.5
                                                for start, end in quiet)]
    assert over_quiet == [], f"mots écrits sur du silence ou du bruit : {over_quiet}"
    # The guards keep what was said: every sentence is still there (espeak's voice is hard for Whisper
    # base, so the words themselves are not all right).
    for kind, start, end in intervals:
        if kind == "speech":
            assert len([word for word in words if start <= word.start < end]) >= 6, text
