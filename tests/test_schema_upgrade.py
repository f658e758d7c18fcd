"""An archive made by an earlier version opens with the new columns added, nothing lost."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from archive.db import Database
from archive.models import Episode
from archive.settings import Settings

OLD_EPISODES = """
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY, slug VARCHAR(120) NOT NULL UNIQUE, guid VARCHAR(64) NOT NULL UNIQUE,
    title VARCHAR(300) NOT NULL, description TEXT NOT NULL, date DATE NOT NULL, duration FLOAT NOT NULL,
    language VARCHAR(8) NOT NULL, audio_sha256 VARCHAR(64) NOT NULL UNIQUE, audio_ext VARCHAR(8) NOT NULL,
    audio_mime VARCHAR(40) NOT NULL, audio_size INTEGER NOT NULL, created_at DATETIME NOT NULL
)"""


def test_an_older_database_gains_the_new_columns(tmp_path):
    path = tmp_path / "parole.db"
    with sqlite3.connect(path) as old:
        old.execute(OLD_EPISODES)
        old.execute("INSERT INTO episodes VALUES (1, 'ancien', 'g-1', 'Un ancien épisode', '', '2024-05-02', 60.0, "
                    "'fr', 'abc', 'mp3', 'audio/mpeg', 1234, '2024-05-02 08:00:00')")
    database = Database(Settings(data_dir=tmp_path))
    with database.session() as session:
        episode = session.scalar(select(Episode))
        assert (episode.title, episode.guid, episode.audio_size) == ("Un ancien épisode", "g-1", 1234)
        assert episode.status == "published" and episode.soundbite_picked is False
        assert episode.episode_number is None and episode.soundbite_start is None
    database.dispose()
