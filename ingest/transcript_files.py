"""Reading a feed's transcript files (WebVTT, SRT, Podcast Namespace JSON) into utterances.

Pure functions of the file's text: no network, no audio, no database, so that each format's
quirks can be tested on strings. Cues are parsed and checked (some text, possible times),
their speakers numbered in order of first appearance, and consecutive cues joined into
sentences the way the pipeline groups words. A file we cannot read ends in a
``TranscriptError``, an ``ItemError``: only its item fails.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

from archive.records import Utterance, Word
from ingest.downloads import ItemError
from ingest.utterances import LONG_PAUSE, MAX_LENGTH, SENTENCE_ENDS


class TranscriptError(ItemError):
    """The item's transcript file is not a transcript we can read."""


class Cue(NamedTuple):
    """One timed piece of an imported transcript; ``speaker`` is the name the file gives, if any."""

    start: float
    end: float
    speaker: str | None
    text: str


_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_TAG = re.compile(r"<[^>]*>")
_SRT_NAME = re.compile(r"^\s*([^\W\d_][^:]{0,39}?)\s?:\s+(\S.*)$")


def parse_time(text: str) -> float:
    """``01:02:03.500``, ``02:03.500`` or SRT's ``01:02:03,500`` in seconds."""
    clock, _, fraction = text.strip().replace(",", ".").partition(".")
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (int(fraction.ljust(3, "0")[:3]) / 1000 if fraction else 0.0)


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks of lines (BOM and Windows line ends removed)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip("\n").split("\n") for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def _timed_block(lines: list[str]) -> tuple[float, float, list[str]] | None:
    """A cue block's times and payload lines (the timing line may follow an identifier line)."""
    for index, line in enumerate(lines[:2]):
        match = _TIMING.match(line)
        if match:
            return parse_time(match.group(1)), parse_time(match.group(2)), lines[index + 1:]
    return None


def parse_vtt(text: str) -> list[Cue]:
    """WebVTT cues; the speaker comes from the ``<v Name>`` voice span, markup is dropped."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise TranscriptError("transcription illisible : ce n'est pas un fichier WebVTT (« WEBVTT » manque en tête)")
    cues = []
    for lines in blocks:
        timed = _timed_block(lines)
        if timed is None:
            continue  # the header, NOTE, STYLE and REGION blocks
        start, end, payload = timed
        joined = " ".join(payload)
        voice = _VOICE.search(joined)
        words = html.unescape(_TAG.sub("", joined)).split()
        speaker = " ".join(html.unescape(voice.group(1)).split()) if voice else None
        cues.append(Cue(start, end, speaker or None, " ".join(words)))
    return cues


def srt_speaker(line: str) -> tuple[str | None, str]:
    """``Jo Spiegel: Bonjour`` → ("Jo Spiegel", "Bonjour"); a line that names nobody is left whole."""
    match = _SRT_NAME.match(line)
    if match:
        name = " ".join(match.group(1).split())
        if name[0].isupper() and len(name.split()) <= 4 and not any(c.isdigit() or c in ",;!?«»\"" for c in name):
            return name, match.group(2)
    return None, line


def parse_srt(text: str) -> list[Cue]:
    """SubRip cues; a ``Name:`` prefix on a cue's first line names its speaker."""
    cues = []
    for lines in _blocks(text):
        timed = _timed_block(lines)
        if timed is None:
            continue
        start, end, payload = timed
        payload = [" ".join(_TAG.sub("", line).split()) for line in payload]
        speaker, first = srt_speaker(payload[0]) if payload else (None, "")
        cues.append(Cue(start, end, speaker, " ".join(" ".join([first, *payload[1:]]).split())))
    if not cues:
        raise TranscriptError("transcription illisible : aucun sous-titre SRT trouvé")
    return cues


def _seconds(value) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    return float(value)


def parse_json(text: str) -> list[Cue]:
    """Podcast Namespace JSON: ``{"version", "segments": [{startTime, endTime, body, speaker}]}``."""
    try:
        document = json.loads(text)
        segments = document["segments"]
        if not isinstance(segments, list):
            raise TypeError("segments")
        cues = []
        for segment in segments:
            body = segment.get("body")
            if not isinstance(body, str):
                raise TypeError("body")
            speaker = segment.get("speaker")
            speaker = " ".join(speaker.split()) if isinstance(speaker, str) else None
            cues.append(Cue(_seconds(segment["startTime"]), _seconds(segment["endTime"]), speaker or None,
                            " ".join(body.split())))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TranscriptError("transcription illisible : ce n'est pas une transcription JSON du Podcast Namespace "
                              "(version, segments avec startTime, endTime et body)") from error
    return cues


PARSERS: dict[str, Callable[[str], list[Cue]]] = {"vtt": parse_vtt, "srt": parse_srt, "json": parse_json}


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which older French subtitle files use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_transcript(data: bytes, kind: str) -> list[Cue]:
    """Cues with text, in time order; TranscriptError when the file holds none or impossible times."""
    cues = [cue for cue in PARSERS[kind](decode_text(data)) if cue.text]
    if not cues:
        raise TranscriptError("transcription vide : aucun texte minuté")
    for cue in cues:
        if not (0 <= cue.start <= cue.end) or not np.isfinite(cue.end):
            raise TranscriptError(f"transcription invalide : temps impossibles ({cue.start:.3f} → {cue.end:.3f} s)")
    return sorted(cues, key=lambda cue: cue.start)


def speaker_labels(cues: Iterable[Cue]) -> dict[str, str]:
    """Each distinct speaker name → ``SPEAKER_1``, ``SPEAKER_2``… in order of first appearance."""
    labels: dict[str, str] = {}
    for cue in cues:
        if cue.speaker and cue.speaker not in labels:
            labels[cue.speaker] = f"SPEAKER_{len(labels) + 1}"
    return labels


def _utterance(pieces: list[Cue], speaker: str | None) -> Utterance:
    """Merged cues; when every cue is one word (word-level JSON), they are the utterance's words too."""
    words = ()
    if all(len(cue.text.split()) == 1 for cue in pieces):
        words = tuple(Word(f" {cue.text}", cue.start, cue.end, 1.0) for cue in pieces)
    return Utterance(speaker, pieces[0].start, max(c.end for c in pieces), " ".join(c.text for c in pieces), words)


def cues_to_utterances(cues: list[Cue], labels: dict[str, str], duration: float | None = None) -> list[Utterance]:
    """Join consecutive cues of one speaker into sentences, as the pipeline groups words.

    A cue that names nobody continues the previous speaker (SRT files name a speaker on their
    first cue only). Times are kept inside the audio; a transcript that starts after the end
    of the audio belongs to another file and is refused.
    """
    if duration is not None:
        late = [cue for cue in cues if cue.start > duration + 1.0]
        if late:
            raise TranscriptError(f"la transcription ne correspond pas à l'audio : elle va jusqu'à "
                                  f"{late[-1].start:.0f} s pour {duration:.0f} s d'audio")
        cues = [cue._replace(start=min(cue.start, duration), end=min(cue.end, duration)) for cue in cues]
    result: list[Utterance] = []
    current: list[Cue] = []
    speaker: str | None = None
    for cue in cues:
        label = labels.get(cue.speaker, speaker) if cue.speaker else speaker
        if current and (label != speaker or current[-1].text.endswith(SENTENCE_ENDS)
                        or cue.start - current[-1].end >= LONG_PAUSE or cue.end - current[0].start > MAX_LENGTH):
            result.append(_utterance(current, speaker))
            current = []
        speaker = label
        current.append(cue)
    if current:
        result.append(_utterance(current, speaker))
    return result
