"""Transcript files from utterances: pure functions, data in, text out.

They accept anything with ``start``, ``end``, ``text`` and ``speaker`` (the archive's
rows or the pipeline's records alike), plus ``words`` for finer cue times. The formats are
those the Podcast Namespace ``<podcast:transcript>`` tag lists: WebVTT, SRT, HTML and JSON,
plus plain text for people who want to quote or print a transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from markupsafe import escape

from feeds.cues import Cue, Spoken, cues, plain_text, speaker_name
from feeds.timefmt import hhmmss, webvtt

__all__ = ["Spoken", "to_html", "to_json", "to_srt", "to_txt", "to_vtt"]


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_text(cue: Cue) -> str:
    """Cue payload: escaped lines, opened by a ``<v Name>`` voice span when the speaker is known."""
    text = "\n".join(_vtt_escape(line) for line in cue.lines if line)
    return f"<v {_vtt_escape(cue.speaker)}>{text}" if cue.speaker else text


def to_vtt(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> str:
    """WebVTT, in short cues (two lines of 65 characters at most) so apps can show them as captions."""
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues(utterances, speaker_names), start=1):
        lines += [str(number), f"{webvtt(cue.start)} --> {webvtt(cue.end)}", _vtt_text(cue), ""]
    return "\n".join(lines)


def _srt_time(seconds: float) -> str:
    """``00:01:02,500``: SRT writes the milliseconds after a comma."""
    return webvtt(seconds).replace(".", ",")


def _srt_lines(cue: Cue) -> list[str]:
    """Cue text lines, the first cue of an utterance opening with ``Name: `` (SRT has no voice tag)."""
    lines = list(cue.lines)
    if cue.first and cue.speaker:
        lines[0] = f"{cue.speaker}: {lines[0]}".rstrip()
    return lines


def to_srt(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> str:
    """SubRip (SRT), the same cues as the WebVTT file, for apps that only read SRT."""
    blocks = [
        "\n".join([str(number), f"{_srt_time(cue.start)} --> {_srt_time(cue.end)}", *_srt_lines(cue)])
        for number, cue in enumerate(cues(utterances, speaker_names), start=1)
    ]
    return "".join(f"{block}\n\n" for block in blocks)


def _html_paragraph(utterance: Spoken, speaker_names: dict[str, str] | None) -> str:
    """One utterance as ``<p>``: start time, speaker, text, all escaped."""
    seconds = max(0, int(utterance.start))
    name = speaker_name(utterance, speaker_names)
    who = f"<strong>{escape(name)}</strong> : " if name else ""
    return (f'<p><time datetime="PT{seconds}S">{hhmmss(seconds)}</time> '
            f"{who}{escape(plain_text(utterance.text))}</p>")


def to_html(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None, title: str = "") -> str:
    """A standalone French HTML5 page, one paragraph per utterance, for people reading the transcript."""
    title = plain_text(title)
    heading = escape(f"Transcription – {title}" if title else "Transcription")
    paragraphs = [_html_paragraph(u, speaker_names) for u in utterances if plain_text(u.text)]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="fr">', "<head>", '<meta charset="utf-8">',
        f"<title>{heading}</title>", "</head>", "<body>", f"<h1>{heading}</h1>",
        *paragraphs, "</body>", "</html>", "",
    ])


def to_json(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None) -> str:
    """Podcast Namespace JSON transcript (``version``, ``segments`` of startTime/endTime/body/speaker)."""
    segments = []
    for utterance in utterances:
        segment = {"startTime": round(utterance.start, 3), "endTime": round(utterance.end, 3),
                   "body": plain_text(utterance.text)}
        speaker = speaker_name(utterance, speaker_names)
        if speaker:
            segment["speaker"] = speaker
        segments.append(segment)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)


_TxtTurn = tuple[float, str | None, str]  # start, speaker's name, text


def _txt_turns(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None) -> list[_TxtTurn]:
    """(start, name, text) per speaker turn: consecutive utterances of one person read as one paragraph."""
    turns: list[_TxtTurn] = []
    for utterance in utterances:
        text = plain_text(utterance.text)
        if not text:
            continue
        name = speaker_name(utterance, speaker_names)
        if turns and turns[-1][1] == name:
            start, _, previous = turns[-1]
            turns[-1] = (start, name, f"{previous} {text}")
        else:
            turns.append((utterance.start, name, text))
    return turns


def to_txt(utterances: Iterable[Spoken], speaker_names: dict[str, str] | None = None, title: str = "") -> str:
    """Plain UTF-8 text, no markup: a title line, then ``[HH:MM:SS] Nom : texte`` per speaker turn,
    paragraphs separated by a blank line, for people who copy, quote or print a transcript."""
    title = plain_text(title)  # a title with a line break would end the title line early
    lines = [f"Transcription – {title}" if title else "Transcription"]
    for start, name, text in _txt_turns(utterances, speaker_names):
        who = f"{name} : " if name else ""
        lines += ["", f"[{hhmmss(max(0, int(start)))}] {who}{text}"]
    return "\n".join(lines) + "\n"
