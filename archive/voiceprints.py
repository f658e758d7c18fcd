"""Recognising voices across episodes.

A person's voiceprint is the mean of the voice embeddings of every episode where a
producer confirmed that the voice is theirs. A new episode's voice is linked to the
closest voiceprint when the cosine similarity reaches ``RECOGNITION_THRESHOLD``; the
link is marked automatic until a producer confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import EpisodeSpeaker, Person

# Calibrated with bench/diarize.py: the same voice scored 0.81-0.97 (one far-field real voice 0.66),
# different voices at most 0.76; a missed match only leaves "Intervenant N" for a producer to name.
RECOGNITION_THRESHOLD = 0.80


def _unit(vector: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(array)
    return array / norm if norm > 0 else array


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return float(_unit(a) @ _unit(b))


def best_match(session: Session, embedding: Sequence[float],
               exclude: Iterable[int] = ()) -> tuple[Person, float] | None:
    """The known person whose voiceprint is closest, if close enough."""
    excluded = set(exclude)
    best: tuple[Person, float] | None = None
    for person in session.scalars(select(Person).where(Person.voiceprint.is_not(None))):
        if person.id in excluded or not person.voiceprint:  # JSON "null" from an older archive is not SQL NULL
            continue
        similarity = cosine(person.voiceprint, embedding)
        if similarity >= RECOGNITION_THRESHOLD and (best is None or similarity > best[1]):
            best = (person, similarity)
    return best


def refresh_voiceprint(session: Session, person: Person) -> None:
    """Recompute a person's voiceprint from every voice a producer has confirmed as theirs."""
    session.flush()
    embeddings = [voice.embedding for voice in session.scalars(
        select(EpisodeSpeaker).where(EpisodeSpeaker.person_id == person.id,
                                     EpisodeSpeaker.auto_recognized.is_(False),
                                     EpisodeSpeaker.embedding.is_not(None)))]
    if embeddings:
        person.voiceprint = [round(float(x), 6) for x in _unit(np.mean([_unit(e) for e in embeddings], axis=0))]
    else:
        person.voiceprint = None
    person.voiceprint_count = len(embeddings)
