"""The passage an episode offers to share (``podcast:soundbite``): the producer's pick, or a proposal.

The proposal is a run of consecutive utterances by one voice, 15 to 120 seconds long
(30 to 60 preferred), that says the most of the episode's chapter keywords: a guest
explaining something in their own words, rather than a question or small talk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.analysis import fold
from archive.models import Episode

TITLE_LENGTH = 120
SOUNDBITE_MIN, SOUNDBITE_MAX = 15.0, 120.0  # seconds, as the Podcast Namespace asks


@dataclass(frozen=True)
class Soundbite:
    start: float
    duration: float
    title: str
    picked: bool  # chosen by a producer rather than proposed


def soundbite(episode: Episode) -> Soundbite | None:
    """The episode's stored soundbite (proposed at ingest or picked by a producer), if it has one."""
    if episode.soundbite_start is None or not episode.soundbite_duration:
        return None
    return Soundbite(episode.soundbite_start, episode.soundbite_duration, episode.soundbite_title or "",
                     episode.soundbite_picked)


def store(episode: Episode, chosen: Soundbite | None) -> None:
    episode.soundbite_start = chosen.start if chosen else None
    episode.soundbite_duration = chosen.duration if chosen else None
    episode.soundbite_title = chosen.title if chosen else None
    episode.soundbite_picked = bool(chosen and chosen.picked)


def pick(episode: Episode, start: float, duration: float) -> Soundbite:
    """A producer's choice, titled by what is said in it."""
    return Soundbite(round(start, 3), round(duration, 3), _title(_text_between(episode, start, start + duration)),
                     True)


def propose(episode: Episode) -> Soundbite | None:
    keywords = {fold(word) for chapter in episode.chapters for word in chapter.keywords}
    utterances = list(episode.utterances)
    best: tuple[float, float, float, str] | None = None
    for first, opening in enumerate(utterances):
        texts = []
        for last in range(first, len(utterances)):
            current = utterances[last]
            if current.speaker != opening.speaker:
                break
            texts.append(current.text)
            duration = current.end - opening.start
            if duration > SOUNDBITE_MAX:
                break
            if duration < SOUNDBITE_MIN:
                continue
            text = " ".join(texts)
            words = re.findall(r"\w+", fold(text))
            score = sum(word in keywords for word in words) + len(words) / 100
            score *= 1.0 if 30 <= duration <= 60 else 0.8
            if best is None or score > best[0]:
                best = (score, opening.start, duration, text)
    if best is None:
        return None
    _score, start, duration, text = best
    return Soundbite(round(start, 3), round(duration, 3), _title(text), False)


def _text_between(episode: Episode, start: float, end: float) -> str:
    return " ".join(u.text for u in episode.utterances if u.end > start and u.start < end)


def _title(text: str) -> str:
    """The passage's first words, at most 120 characters, cut between words."""
    text = " ".join(text.split())
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text.rfind(" ", 0, TITLE_LENGTH - 1)
    return text[:cut if cut > 0 else TITLE_LENGTH - 1] + "…"
