"""The small frozen shapes that cross from the pipeline into the archive and the renderers.

They live at the bottom layer so that ``ingest``, ``archive`` and ``feeds`` all speak
the same language without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


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

    @classmethod
    def parse(cls, text: str) -> Guest:
        """``"Nom|rôle"`` as typed on the command line."""
        name, _, role = text.partition("|")
        return cls(name.strip(), role.strip())


@dataclass(frozen=True)
class EpisodeMeta:
    title: str
    description: str = ""
    date: dt.date = field(default_factory=dt.date.today)
    guests: tuple[Guest, ...] = ()


@dataclass(frozen=True)
class SourceAudio:
    """An audio file that passed the checks: where it is, what it is, how long it lasts."""

    path: Path
    sha256: str
    extension: str
    mime_type: str
    duration: float
