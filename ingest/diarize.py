"""Who speaks when. Not built yet: no turns means "speaker unknown" downstream."""

from __future__ import annotations

from archive.records import Turn, Word
from ingest.audio import Audio


def diarize(audio: Audio, words: list[Word]) -> list[Turn]:
    return []
