"""Transcript renderers are pure functions: records in, text out."""

from __future__ import annotations

import html
import io
import json
from types import SimpleNamespace

import pytest
import srt
import webvtt as webvtt_py

from archive.records import Utterance, Word
from feeds.cues import MAX_LINE, cues, wrap
from feeds.timefmt import clock, hhmmss, webvtt
from feeds.transcripts import to_html, to_json, to_srt, to_vtt

UTTERANCES = [
    Utterance("SPEAKER_1", 0.5, 3.25, "Bonjour et bienvenue."),
    Utterance(None, 3.5, 3723.0, "Un <b>texte</b> --> piégé & long"),
]

LONG_TEXT = (
    "Alors écoutez, je crois que la question du logement dans notre commune ne se pose plus du tout de la même "
    "manière qu'il y a dix ans, parce que les jeunes ménages partent vers la périphérie, que les loyers du centre "
    "ont doublé et que les propriétaires préfèrent louer aux touristes, et donc nous avons lancé un plan "
    "ambitieux avec la région pour construire des logements sociaux près de la gare d'ici deux mille trente."
)
LONG_START, LONG_END = 10.0, 52.0
EVIL = "<script>alert('x')</script> & Cie"
NAMES = {"SPEAKER_1": "Jo Spiegel", "SPEAKER_2": "Marie Curie", "SPEAKER_3": EVIL}


def _word_rows(text: str, start: float, end: float) -> list[list]:
    """Word timestamps as the database stores them: ``[text, start, end, probability]``, a pause between."""
    tokens = text.split()
    step = (end - start) / len(tokens)
    rows = [[f" {token}", round(start + i * step, 3), round(start + (i + 0.8) * step, 3), 0.9]
            for i, token in enumerate(tokens)]
    rows[-1][2] = end
    return rows


def _row(speaker, start, end, text, words=()):
    """A stand-in for the ORM row: ``words`` as lists."""
    return SimpleNamespace(speaker=speaker, start=start, end=end, text=text, words=list(words))


LONG = _row("SPEAKER_2", LONG_START, LONG_END, LONG_TEXT, _word_rows(LONG_TEXT, LONG_START, LONG_END))
EPISODE = [
    _row("SPEAKER_1", 0.0, 9.5, "Bonjour   et bienvenue\n dans l'émission.",
         _word_rows("Bonjour et bienvenue dans l'émission.", 0.2, 9.0)),
    LONG,
    _row("SPEAKER_3", 51.5, 70.0, "Une réponse sans horodatage des mots, avec du <b>gras</b> & des "
         "esperluettes, assez longue pour tenir sur plusieurs lignes de sous-titres."),
    _row("SPEAKER_9", 70.0, 72.0, "Inconnu au bataillon."),
]


def _seconds(timestamp) -> float:
    """Seconds from an ``srt`` timedelta or a ``webvtt`` Timestamp (whose ``in_seconds`` drops the millis)."""
    if hasattr(timestamp, "total_seconds"):
        return timestamp.total_seconds()
    hours, minutes, seconds, millis = timestamp.to_tuple()
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _vtt(utterances=EPISODE, names=NAMES):
    return webvtt_py.from_buffer(io.StringIO(to_vtt(utterances, names)), strict=True).captions


def test_time_formats():
    assert webvtt(3723.5) == "01:02:03.500"
    assert hhmmss(59.6) == "00:01:00"
    assert clock(75) == "01:15" and clock(3723) == "1:02:03"


def test_vtt_escapes_markup_and_tags_voices():
    text = to_vtt(UTTERANCES, {"SPEAKER_1": "Jo Spiegel"})
    assert text.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:03.250\n<v Jo Spiegel>Bonjour et bienvenue.")
    assert "&lt;b&gt;texte&lt;/b&gt; --&gt; piégé &amp; long" in text
    assert "<b>" not in text


def test_wrap_breaks_between_words_and_keeps_long_words_whole():
    tokens = ["a" * 30, "b" * 30, "c" * 10, "d" * 80, "e"]
    assert wrap(tokens) == [[0, 1], [2], [3], [4]]
    assert wrap(["x" * 60], reserve=12) == [[], [0]]


def test_vtt_parses_with_voices_and_short_lines():
    captions = _vtt()
    assert len(captions) > len(EPISODE)
    for caption in captions:
        assert caption.voice and caption.raw_text.startswith("<v ")
        lines = html.unescape(caption.text).split("\n")  # 65 characters as spoken, not as escaped
        assert 1 <= len(lines) <= 2
        assert all(0 < len(line) <= MAX_LINE for line in lines)
    assert {caption.voice for caption in captions} == {
        "Jo Spiegel", "Marie Curie", "&lt;script&gt;alert('x')&lt;/script&gt; &amp; Cie", "SPEAKER_9"}


def test_vtt_text_matches_utterances_and_escapes_markup():
    text = to_vtt(EPISODE, NAMES)
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; des" in text
    spoken = " ".join(caption.text.replace("\n", " ") for caption in _vtt())
    expected = " ".join(" ".join(u.text.split()) for u in EPISODE)
    assert spoken.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == expected


def test_cues_in_order_without_overlap():
    captions = _vtt()
    times = [(_seconds(c.start_time), _seconds(c.end_time)) for c in captions]
    for (start, end), (next_start, _) in zip(times, times[1:], strict=False):
        assert start <= end <= next_start
    # Utterances 2 and 3 overlap in time (51.5 < 52.0): the later one's cues start after.
    overlapping = [c for c in cues(EPISODE, NAMES) if c.speaker == EVIL]
    assert overlapping[0].start >= 52.0


def test_long_utterance_cues_follow_word_times():
    long_cues = [c for c in cues(EPISODE, NAMES) if c.speaker == "Marie Curie"]
    assert len(long_cues) >= 3
    assert [c.first for c in long_cues] == [True] + [False] * (len(long_cues) - 1)
    starts = {word[1] for word in LONG.words}
    ends = {word[2] for word in LONG.words}
    position = 0
    for cue in long_cues:
        assert LONG_START <= cue.start < cue.end <= LONG_END
        first = LONG.words[position]
        count = len(" ".join(cue.lines).split())
        last = LONG.words[position + count - 1]
        assert cue.start in starts and cue.end in ends
        assert (cue.start, cue.end) == (first[1], last[2])
        position += count
    assert position == len(LONG.words)


def test_utterance_without_words_splits_time_by_characters():
    plain = [c for c in cues(EPISODE, NAMES) if c.speaker == EVIL]
    assert len(plain) >= 2
    assert plain[0].start == 52.0 and plain[-1].end == pytest.approx(70.0)
    for cue, following in zip(plain, plain[1:], strict=False):
        assert cue.end == pytest.approx(following.start)


def test_pipeline_word_objects_give_the_same_cues():
    words = tuple(Word(text, start, end, prob) for text, start, end, prob in LONG.words)
    record = Utterance("SPEAKER_2", LONG_START, LONG_END, LONG_TEXT, words)
    assert cues([record], NAMES) == cues([LONG], NAMES)


def test_word_times_are_clamped_inside_the_utterance():
    rows = [["Trop", 0.0, 2.0, 0.5], ["tôt", 2.0, 3.0, 0.5], ["et", 5.0, 6.0, 0.5], ["tard.", 6.0, 99.0, 0.5]]
    (cue,) = cues([_row("SPEAKER_1", 1.0, 7.0, "Trop tôt et tard.", rows)], NAMES)
    assert (cue.start, cue.end) == (1.0, 7.0)


def test_srt_parses_with_same_cues_and_speaker_prefix():
    subtitles = list(srt.parse(to_srt(EPISODE, NAMES)))
    captions = _vtt()
    assert len(subtitles) == len(captions)
    for subtitle, caption in zip(subtitles, captions, strict=True):
        assert _seconds(subtitle.start) == pytest.approx(_seconds(caption.start_time))
        assert _seconds(subtitle.end) == pytest.approx(_seconds(caption.end_time))
        assert all(len(line) <= MAX_LINE for line in subtitle.content.split("\n"))
    firsts = [s.content for s, c in zip(subtitles, cues(EPISODE, NAMES), strict=True) if c.first]
    assert [content.split(": ")[0] for content in firsts] == ["Jo Spiegel", "Marie Curie", EVIL, "SPEAKER_9"]
    others = [s.content for s, c in zip(subtitles, cues(EPISODE, NAMES), strict=True) if not c.first]
    assert others and not any(content.startswith(name) for content in others for name in NAMES.values())
    assert "du <b>gras</b> &" in to_srt(EPISODE, NAMES)  # SRT is plain text: no escaping


def test_srt_format():
    text = to_srt(UTTERANCES, {"SPEAKER_1": "Jo Spiegel"})
    assert text.startswith("1\n00:00:00,500 --> 00:00:03,250\nJo Spiegel: Bonjour et bienvenue.\n\n2\n")
    assert text.endswith("\n\n") and not text.endswith("\n\n\n")


def test_srt_name_too_long_for_the_first_line_stands_alone():
    name = "N" * 60
    (subtitle,) = srt.parse(to_srt([_row("SPEAKER_1", 0.0, 1.0, "Anticonstitutionnellement")], {"SPEAKER_1": name}))
    assert subtitle.content == f"{name}:\nAnticonstitutionnellement"


def test_html_page_is_french_and_escaped():
    page = to_html(EPISODE, NAMES, title="Le <script>alert(1)</script> & co")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"fr\">")
    assert '<meta charset="utf-8">' in page
    assert "<title>Transcription – Le &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>" in page
    assert "<script" not in page and "<b>" not in page
    assert page.count("<p>") == page.count("</p>") == len(EPISODE)
    assert "<strong>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Cie</strong>" in page
    assert '<time datetime="PT51S">00:00:51</time>' in page
    for name in ("Jo Spiegel", "Marie Curie", "SPEAKER_9"):
        assert f"<strong>{name}</strong>" in page
    assert LONG_TEXT.replace("'", "&#39;") in page
    assert "Bonjour et bienvenue dans l&#39;émission." in page
    assert "du &lt;b&gt;gras&lt;/b&gt; &amp; des" in page


def test_html_is_well_formed():
    lxml_html = pytest.importorskip("lxml.html")
    page = to_html(EPISODE, NAMES, title="Épisode 12")
    tree = lxml_html.document_fromstring(page)
    assert tree.get("lang") == "fr"
    assert tree.findtext(".//title") == "Transcription – Épisode 12"
    assert len(tree.findall(".//p")) == len(EPISODE)
    assert [p.findtext("strong") for p in tree.findall(".//p")] == ["Jo Spiegel", "Marie Curie", EVIL, "SPEAKER_9"]


def test_json_transcript_fields():
    data = json.loads(to_json(UTTERANCES, {"SPEAKER_1": "Jo Spiegel"}))
    assert data["version"] == "1.0.0"
    assert data["segments"][0] == {"startTime": 0.5, "endTime": 3.25, "body": "Bonjour et bienvenue.",
                                   "speaker": "Jo Spiegel"}
    assert "speaker" not in data["segments"][1]
    assert data["segments"][1]["body"] == "Un <b>texte</b> --> piégé & long"


def test_json_one_segment_per_utterance():
    data = json.loads(to_json(EPISODE, NAMES))
    assert [s["speaker"] for s in data["segments"]] == ["Jo Spiegel", "Marie Curie", EVIL, "SPEAKER_9"]
    assert data["segments"][1] == {"startTime": LONG_START, "endTime": LONG_END, "body": LONG_TEXT,
                                   "speaker": "Marie Curie"}


def test_txt_is_plain_text_with_one_paragraph_per_speaker_turn():
    from feeds.transcripts import to_txt

    rows = [*EPISODE[:2], _row("SPEAKER_2", 52.0, 55.0, "  Et   j'ajoute\nceci."), _row("SPEAKER_2", 55.0, 56.0, " "),
            *EPISODE[2:], _row(None, 3725.0, 3730.0, "Voix <i>inconnue</i>.")]
    text = to_txt(rows, NAMES, title="Épisode\n12")
    assert text.endswith("\n") and not text.endswith("\n\n")
    title, *paragraphs = text.rstrip("\n").split("\n\n")
    assert title == "Transcription – Épisode 12"
    assert paragraphs == [
        "[00:00:00] Jo Spiegel : Bonjour et bienvenue dans l'émission.",
        f"[00:00:10] Marie Curie : {LONG_TEXT} Et j'ajoute ceci.",  # consecutive utterances joined
        f"[00:00:51] {EVIL} : Une réponse sans horodatage des mots, avec du <b>gras</b> & des esperluettes, "
        "assez longue pour tenir sur plusieurs lignes de sous-titres.",  # plain text: nothing escaped
        "[00:01:10] SPEAKER_9 : Inconnu au bataillon.",
        "[01:02:05] Voix <i>inconnue</i>.",
    ]
    assert to_txt([]) == "Transcription\n"


NNBSP, NBSP = "\u202f", "\u00a0"
FRENCH = (f"Alors vous avez compris{NNBSP}? Nous sommes 12{NNBSP}000 habitants ici, et le maire dit{NBSP}: "
          f"«{NBSP}c’est{NBSP}» le moment{NNBSP}! Voilà{NNBSP}; on verra bien.")
GLUED = [f"compris{NNBSP}?", f"12{NNBSP}000", f"dit{NBSP}:", f"«{NBSP}c’est{NBSP}»",
         f"moment{NNBSP}!", f"Voilà{NNBSP};"]


def _french_rows(shift: int) -> SimpleNamespace:
    """The typeset sentence twice after a filler word of ``shift`` letters, so that every glued
    piece lands at some line end; word timestamps as whisper gives them (" compris ?")."""
    text = " ".join(part for part in ("x" * shift, FRENCH, FRENCH) if part)
    words = [[f" {token}", 1.0 + i, 1.5 + i, 0.9] for i, token in enumerate(text.split(" "))]
    return _row("SPEAKER_1", 1.0, 1.0 + len(words), text, words)


def _assert_french_lines(lines: list[str]) -> None:
    for line in lines:
        assert line and len(line) <= MAX_LINE
        assert line[0] not in "?!;:»" and line[0] not in (NNBSP, NBSP)
        assert line[-1] not in "«" and line[-1] not in (NNBSP, NBSP)
        assert not line.startswith("000") and not line.endswith(" 12")


@pytest.mark.parametrize("shift", range(0, MAX_LINE + 1, 3))
def test_no_break_spaces_are_never_line_breaks(shift):
    utterance = _french_rows(shift)
    names = {"SPEAKER_1": "Jo Spiegel"}
    captions = webvtt_py.from_buffer(io.StringIO(to_vtt([utterance], names)), strict=True).captions
    vtt_lines = [line for caption in captions for line in html.unescape(caption.text).split("\n")]
    _assert_french_lines(vtt_lines)
    subtitles = list(srt.parse(to_srt([utterance], names)))
    srt_lines = [line for subtitle in subtitles for line in subtitle.content.split("\n")]
    srt_lines[0] = srt_lines[0].removeprefix("Jo Spiegel:").lstrip(" ")  # alone when the first word is too long
    srt_lines = [line for line in srt_lines if line]
    _assert_french_lines(srt_lines)
    # The no-break spaces stay in the text; every glued piece is on one line, twice.
    for piece in GLUED:
        assert sum(line.count(piece) for line in vtt_lines) == 2
        assert sum(line.count(piece) for line in srt_lines) == 2
    assert " ".join(vtt_lines) == utterance.text == " ".join(srt_lines)


def test_no_break_spaces_leave_cue_times_on_word_times():
    utterance = _french_rows(7)
    starts = {word[1] for word in utterance.words}
    ends = {word[2] for word in utterance.words}
    position = 0
    for cue in cues([utterance]):
        count = len(" ".join(cue.lines).split(" "))
        assert (cue.start, cue.end) == (utterance.words[position][1], utterance.words[position + count - 1][2])
        assert cue.start in starts and cue.end in ends
        position += count
    assert position == len(utterance.words)


def test_plain_text_keeps_no_break_spaces_between_words_only():
    from feeds.cues import line_tokens, plain_text

    assert plain_text(f" {NBSP}oui {NBSP} mais\n\tnon{NNBSP}?{NNBSP} ") == f"oui{NBSP}mais non{NNBSP}?"
    assert line_tokens(f"12{NNBSP}000  «{NBSP}c’est{NBSP}»") == [f"12{NNBSP}000", f"«{NBSP}c’est{NBSP}»"]
    assert line_tokens(f" {NBSP} ") == []
