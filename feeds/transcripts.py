"""Transcript files from utterances: pure functions, data in, text out.

They accept anything with ``start``, ``end``, ``text`` and ``speaker`` (the archive's
rows or the pipeline's records alike).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

from feeds.timefmt import webvtt


class Spoken(Protocol):
    start: float
    end: float
    text: str
    speaker: str | None


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> str:
    """WebVTT; a ``<v Name>`` voice tag where the speaker is known."""
    names = speaker_names or {}
    lines = ["WEBVTT", ""]
    for number, utterance in enumerate(utterances, start=1):
        text = _vtt_escape(" ".join(utterance.text.split()))
        speaker = names.get(utterance.speaker or "", utterance.speaker)
        if speaker:
            text = f"<v {_vtt_escape(speaker)}>{text}"
        lines += [str(number), f"{webvtt(utterance.start)} --> {webvtt(utterance.end)}", text, ""]
    return "\n".join(lines)


def to_json(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> str:
    """Podcast Namespace JSON transcript (``version``, ``segments`` of startTime/endTime/body/speaker)."""
    names = speaker_names or {}
    segments = []
    for utterance in utterances:
        segment = {"startTime": round(utterance.start, 3), "endTime": round(utterance.end, 3),
                   "body": " ".join(utterance.text.split())}
        speaker = names.get(utterance.speaker or "", utterance.speaker)
        if speaker:
            segment["speaker"] = speaker
        segments.append(segment)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)
