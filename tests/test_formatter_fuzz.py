"""Transcript files stay valid whatever was said and whoever said it.

Hypothesis makes transcripts out of any Unicode text (markup, "-->", "<v ", "&", line
breaks, right-to-left marks, control characters), speaker names with markup, and times
that follow or touch each other; each file is then read back with a real reader of its
format (webvtt-py, srt, json, Python's HTML parser, lxml) and must give back the same
words and the same times, to the millisecond.
"""

from __future__ import annotations

import html
import io
import json
import unicodedata
from html.parser import HTMLParser
from types import SimpleNamespace

import srt
import webvtt as webvtt_py
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.cues import cues, plain_text
from feeds.transcripts import to_html, to_json, to_srt, to_txt, to_vtt

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

TRAPS = ["-->", "<v ", "<v Jo>", "</v>", "&", "&amp;", "&lt;", "<b>", "<script>alert(1)</script>", "\n", "\n\n",
         "\r\n", "\t", " ", "\u200f", "\u202e", "\u2028", "\x00", "\x85", "\ufeff", "WEBVTT", "NOTE", "1",
         "00:00:01,000 --> 00:00:02,000", "00:00:01.000 --> 00:00:02.000", "é", "😀", "x" * 70]
LABELS = ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3"]

any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
spoken = st.lists(st.one_of(st.sampled_from(TRAPS), any_text), max_size=14).map("".join)
names = st.dictionaries(st.sampled_from(LABELS), st.one_of(spoken, st.sampled_from(["Jo Spiegel", "N" * 70])))


@st.composite
def transcripts(draw) -> list[SimpleNamespace]:
    """Utterances in time order; each starts where the previous ended or later; some carry word times."""
    utterances = []
    clock = draw(st.floats(min_value=0, max_value=400_000, allow_nan=False))
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        start = clock + draw(st.sampled_from([0.0, 0.0, 0.001, 0.25, 3.0]))
        end = start + draw(st.floats(min_value=0, max_value=90, allow_nan=False))
        text = draw(spoken)
        words = []
        if draw(st.booleans()):
            tokens = text.split()
            times = sorted(draw(st.lists(st.floats(min_value=start, max_value=end), min_size=2 * len(tokens),
                                         max_size=2 * len(tokens))))
            words = [[f" {token}", times[2 * i], times[2 * i + 1], 0.9] for i, token in enumerate(tokens)]
        speaker = draw(st.one_of(st.none(), st.sampled_from(LABELS), spoken))
        utterances.append(SimpleNamespace(speaker=speaker, start=start, end=end, text=text, words=words))
        clock = end
    return utterances


def millis(timestamp) -> int:
    """Whole milliseconds of an ``srt`` timedelta or a webvtt-py caption time."""
    if hasattr(timestamp, "total_seconds"):
        return round(timestamp.total_seconds() * 1000)
    hours, minutes, seconds, thousandths = timestamp.to_tuple()
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + thousandths


def said(utterances) -> str:
    """Everything said, as one line of words: what every format must carry."""
    return " ".join(text for utterance in utterances if (text := plain_text(utterance.text)))


@FUZZ
@given(utterances=transcripts(), speaker_names=names)
def test_vtt_reads_back_the_same_cues(utterances, speaker_names):
    expected = cues(utterances, speaker_names)
    captions = webvtt_py.from_buffer(io.StringIO(to_vtt(utterances, speaker_names))).captions
    assert len(captions) == len(expected)
    for caption, cue in zip(captions, expected, strict=True):
        assert millis(caption.start_time) == round(cue.start * 1000)
        assert millis(caption.end_time) == round(cue.end * 1000)
        assert html.unescape(caption.text) == "\n".join(line for line in cue.lines if line)
        assert html.unescape(caption.voice or "") == (cue.speaker or "")
    assert " ".join(html.unescape(caption.text).replace("\n", " ") for caption in captions) == said(utterances)
    ends = [(millis(caption.start_time), millis(caption.end_time)) for caption in captions]
    assert all(start <= end for start, end in ends)
    assert all(end <= following for (_, end), (following, _) in zip(ends, ends[1:], strict=False))


@FUZZ
@given(utterances=transcripts(), speaker_names=names)
def test_srt_reads_back_the_same_cues(utterances, speaker_names):
    expected = cues(utterances, speaker_names)
    subtitles = list(srt.parse(to_srt(utterances, speaker_names)))
    assert len(subtitles) == len(expected)
    for number, (subtitle, cue) in enumerate(zip(subtitles, expected, strict=True), start=1):
        assert subtitle.index == number
        assert (millis(subtitle.start), millis(subtitle.end)) == (round(cue.start * 1000), round(cue.end * 1000))
        lines = list(cue.lines)
        if cue.first and cue.speaker:
            lines[0] = f"{cue.speaker}: {lines[0]}".rstrip()
        assert subtitle.content == "\n".join(lines)


@FUZZ
@given(utterances=transcripts(), speaker_names=names)
def test_json_round_trips(utterances, speaker_names):
    segments = json.loads(to_json(utterances, speaker_names))["segments"]
    assert len(segments) == len(utterances)
    for segment, utterance in zip(segments, utterances, strict=True):
        assert segment["startTime"] == round(utterance.start, 3) and segment["endTime"] == round(utterance.end, 3)
        assert segment["body"] == plain_text(utterance.text)
        name = plain_text(speaker_names.get(utterance.speaker or "", utterance.speaker or ""))
        assert segment.get("speaker", "") == name


VOID = {"meta"}
ALLOWED = {"html", "head", "meta", "title", "body", "h1", "p", "time", "strong"}


class _Tree(HTMLParser):
    """Checks that tags open and close in order, and keeps each paragraph's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: set[str] = set()
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in VOID:
            self.open.append(tag)
        if tag == "p":
            self.paragraphs.append("")

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else ''}>"
        self.open.pop()

    def handle_data(self, data):
        if "p" in self.open:
            self.paragraphs[-1] += data


@FUZZ
@given(utterances=transcripts(), speaker_names=names, title=spoken)
def test_html_is_well_formed_and_escapes_markup(utterances, speaker_names, title):
    page = to_html(utterances, speaker_names, title=title)
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.open == [] and tree.tags <= ALLOWED
    kept = [utterance for utterance in utterances if plain_text(utterance.text)]
    assert len(tree.paragraphs) == len(kept)
    for paragraph, utterance in zip(tree.paragraphs, kept, strict=True):
        assert paragraph.endswith(plain_text(utterance.text))
    assert not [char for char in page if unicodedata.category(char) == "Cc" and char != "\n"]


@FUZZ
@given(utterances=transcripts(), speaker_names=names, title=spoken)
def test_html_reads_the_same_in_a_browser_parser(utterances, speaker_names, title):
    import lxml.html

    tree = lxml.html.document_fromstring(to_html(utterances, speaker_names, title=title))
    kept = [utterance for utterance in utterances if plain_text(utterance.text)]
    paragraphs = tree.findall(".//p")
    assert len(paragraphs) == len(kept)
    assert all(paragraph.text_content().endswith(plain_text(utterance.text))
               for paragraph, utterance in zip(paragraphs, kept, strict=True))
    assert all(len(paragraph) <= 2 for paragraph in paragraphs)  # <time> and <strong>, nothing from the text
    plain_title = plain_text(title)
    assert tree.findtext(".//title") == (f"Transcription – {plain_title}" if plain_title else "Transcription")


@FUZZ
@given(utterances=transcripts(), speaker_names=names, title=spoken)
def test_txt_keeps_one_line_per_speaker_turn(utterances, speaker_names, title):
    text = to_txt(utterances, speaker_names, title=title)
    heading, *paragraphs = text.rstrip("\n").split("\n\n")
    assert "\n" not in heading
    assert all("\n" not in paragraph and paragraph.startswith("[") for paragraph in paragraphs)
    assert all(plain_text(utterance.text) in text for utterance in utterances)
