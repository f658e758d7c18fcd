"""The small frozen shapes that cross from the pipeline into the archive and the renderers.

They live at the bottom layer so that ``ingest``, ``archive`` and ``feeds`` all speak
the same language without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from archive.release import latest_live_date


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Turn:
    """A stretch of time where one speaker talks (from diarization)."""

    speaker: str
    start: float
    end: float


@dataclass(frozen=True)
class Voice:
    """One speaker found in an episode: their label, voice embedding and talk time."""

    label: str
    embedding: tuple[float, ...]
    talk_time: float


@dataclass(frozen=True)
class Diarization:
    turns: list[Turn]
    voices: list[Voice]


@dataclass(frozen=True)
class Utterance:
    speaker: str | None
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guest:
    name: str
    role: str = ""
    organisation: str = ""

    @classmethod
    def parse(cls, text: str) -> Guest:
        """``"Nom|rôle|organisation"`` as typed on the command line (role and organisation optional)."""
        name, role, organisation = ([part.strip() for part in text.split("|", 2)] + ["", ""])[:3]
        return cls(name, role, organisation)


@dataclass(frozen=True)
class EpisodeMeta:
    title: str
    description: str = ""
    date: dt.date = field(default_factory=latest_live_date)  # published now: the latest date already out
    guests: tuple[Guest, ...] = ()
    draft: bool = False  # a draft stays out of the feed until a producer publishes it
    episode_number: int | None = None
    season: int | None = None
    guid: str | None = None  # kept from an older feed when importing it; a new one otherwise


@dataclass(frozen=True)
class SourceAudio:
    """An audio file that passed the checks: where it is, what it is, how long it lasts."""

    path: Path
    sha256: str
    extension: str
    mime_type: str
    duration: float
