"""Voiceprints stay usable when a person loses their last named voice."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from archive.models import EpisodeSpeaker, Person
from archive.records import EpisodeMeta, SourceAudio, Voice
from archive.records import Utterance as Record
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import write_wav


def _episode(store: Archive, folder, seed: int, embedding: tuple[float, ...]):
    audio = write_wav(folder / f"{seed}.wav", 0.1 * np.random.default_rng(seed).standard_normal(16_000))
    return store.save_episode(EpisodeMeta(f"Épisode {seed}"), SourceAudio(audio, file_sha256(audio), "wav",
                                                                            "audio/wav", 1.0),
                              [Record("SPEAKER_0", 0.0, 1.0, "bonjour à tous")], [Voice("SPEAKER_0", embedding, 1.0)])


def test_a_renamed_voice_is_recognised_as_its_new_owner(fresh_data, tmp_path):
    voice = tuple(float(x) for x in np.random.default_rng(7).standard_normal(192))
    store = Archive(Settings(data_dir=fresh_data))
    try:
        first = _episode(store, tmp_path, 1, voice)
        store.name_speaker(first.id, "SPEAKER_0", "Léa Martin")
        store.name_speaker(first.id, "SPEAKER_0", "Marc Durand")  # a naming mistake, corrected
        second = _episode(store, tmp_path, 2, voice)
        with store.db.session() as session:
            lea = session.scalar(select(Person).where(Person.name == "Léa Martin"))
            assert lea.voiceprint is None and lea.voiceprint_count == 0
            recognised = session.scalar(select(EpisodeSpeaker).where(EpisodeSpeaker.episode_id == second.id))
            assert recognised.person.name == "Marc Durand" and recognised.auto_recognized
    finally:
        store.close()
