"""An archive made before migrations existed opens with the new columns and tables added, nothing lost."""

from __future__ import annotations

import datetime as dt
import sqlite3

from sqlalchemy import inspect, select

from archive.db import Database
from archive.migrations import head_revision
from archive.models import Base, Comment, Episode
from archive.settings import Settings

OLD_EPISODES = """
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY, slug VARCHAR(120) NOT NULL UNIQUE, guid VARCHAR(64) NOT NULL UNIQUE,
    title VARCHAR(300) NOT NULL, description TEXT NOT NULL, date DATE NOT NULL, duration FLOAT NOT NULL,
    language VARCHAR(8) NOT NULL, audio_sha256 VARCHAR(64) NOT NULL UNIQUE, audio_ext VARCHAR(8) NOT NULL,
    audio_mime VARCHAR(40) NOT NULL, audio_size INTEGER NOT NULL, created_at DATETIME NOT NULL
)"""


def make_old_archive(folder) -> None:
    with sqlite3.connect(folder / "parole.db") as old:
        old.execute(OLD_EPISODES)
        old.execute("INSERT INTO episodes VALUES (1, 'ancien', 'g-1', 'Un ancien épisode', '', '2024-05-02', 60.0, "
                    "'fr', 'abc', 'mp3', 'audio/mpeg', 1234, '2024-05-02 08:00:00')")


def test_an_older_database_gains_the_new_columns(tmp_path):
    make_old_archive(tmp_path)
    database = Database(Settings(data_dir=tmp_path))
    with database.session() as session:
        episode = session.scalar(select(Episode))
        assert (episode.title, episode.guid, episode.audio_size) == ("Un ancien épisode", "g-1", 1234)
        assert episode.status == "published" and episode.soundbite_picked is False
        assert episode.episode_number is None and episode.soundbite_start is None
        assert episode.created_at == dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    database.dispose()


def test_an_older_database_is_stamped_and_gains_the_tables_it_lacked(tmp_path):
    make_old_archive(tmp_path)
    Database(Settings(data_dir=tmp_path)).dispose()
    database = Database(Settings(data_dir=tmp_path))  # opened again: nothing left to do, nothing redone
    try:
        assert set(inspect(database.engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [
                head_revision()]
        with database.sessions.begin() as session:
            session.add(Comment(episode_id=1, name="Léa", text="Merci", edit_token_sha256="x"))
        with database.session() as session:
            assert session.scalar(select(Comment.text)) == "Merci"
            assert session.scalar(select(Episode.slug)) == "ancien"
    finally:
        database.dispose()
