"""Transcript renderers are pure functions: records in, text out."""

from __future__ import annotations

import json

from archive.records import Utterance
from feeds.timefmt import clock, hhmmss, webvtt
from feeds.transcripts import to_json, to_vtt

UTTERANCES = [
    Utterance("SPEAKER_1", 0.5, 3.25, "Bonjour et bienvenue."),
    Utterance(None, 3.5, 3723.0, "Un <b>texte</b> --> piégé & long"),
]


def test_time_formats():
    assert webvtt(3723.5) == "01:02:03.500"
    assert hhmmss(59.6) == "00:01:00"
    assert clock(75) == "01:15" and clock(3723) == "1:02:03"


def test_vtt_escapes_markup_and_tags_voices():
    text = to_vtt(UTTERANCES, {"SPEAKER_1": "Jo Spiegel"})
    assert text.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:03.250\n<v Jo Spiegel>Bonjour et bienvenue.")
    assert "&lt;b&gt;texte&lt;/b&gt; --&gt; piégé &amp; long" in text
    assert "<b>" not in text


def test_json_transcript_fields():
    data = json.loads(to_json(UTTERANCES, {"SPEAKER_1": "Jo Spiegel"}))
    assert data["version"] == "1.0.0"
    assert data["segments"][0] == {"startTime": 0.5, "endTime": 3.25, "body": "Bonjour et bienvenue.",
                                   "speaker": "Jo Spiegel"}
    assert "speaker" not in data["segments"][1]
    assert data["segments"][1]["body"] == "Un <b>texte</b> --> piégé & long"
