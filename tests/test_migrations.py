"""The schema comes from the migrations, the same on SQLite and PostgreSQL, and is migrated once whoever opens it."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from archive import revisions
from archive.db import Database, DatabaseUnavailable
from archive.migrations import FOLDER, alembic_config, head_revision
from archive.migrations.upgrade import upgrade_to_head
from archive.models import Base, Comment, Episode, Producer, Utterance
from archive.settings import Settings
from tests.helpers import REPO, free_port


def differences(database: Database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def stored_revisions(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def test_migrations_build_exactly_the_models_schema(tmp_path, database_url):
    database = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        assert differences(database) == []
        assert stored_revisions(database) == [head_revision()]
    finally:
        database.dispose()


def test_downgrading_to_nothing_and_back_gives_the_same_schema(tmp_path, database_url):
    database = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        database.dispose()
        database = Database(Settings(data_dir=tmp_path, database_url=database_url))
        assert differences(database) == []
    finally:
        database.dispose()


def test_postgres_scheme_is_read_as_postgresql_with_psycopg(tmp_path, postgresql_server):
    url = postgresql_server.create_database().replace("postgresql://", "postgres://")
    settings = Settings(data_dir=tmp_path, database_url=url)
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    database = Database(settings)
    try:
        assert database.engine.dialect.driver == "psycopg"
        assert stored_revisions(database) == [head_revision()]
    finally:
        database.dispose()


LATER_REVISION = '''"""Longer titles: SQLite can only change a column's type by copying the whole table.

Revision ID: 9001
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"


def upgrade():
    with op.batch_alter_table("episodes") as batch:
        batch.alter_column("title", existing_type=sa.String(300), type_=sa.String(400), existing_nullable=False)


def downgrade():
    pass
'''


def test_a_later_revision_that_copies_a_table_keeps_every_row_that_points_to_it(tmp_path, database_url):
    """On SQLite the episodes table is copied then dropped: its utterances and comments must not go with it."""
    folder = tmp_path / "migrations"
    shutil.copytree(FOLDER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9001_longer_titles.py").write_text(LATER_REVISION.format(head=head_revision()))
    database = Database(Settings(data_dir=tmp_path / "data", database_url=database_url))
    try:
        with database.sessions.begin() as session:
            episode = Episode(slug="un", title="Un", date=dt.date(2026, 3, 12), duration=2.0, audio_sha256="a" * 64,
                              audio_ext="wav", audio_mime="audio/wav", audio_size=10)
            episode.utterances.append(Utterance(position=0, start=0.0, end=1.0, text="bonjour"))
            session.add(episode)
            session.flush()
            session.add(Comment(episode_id=episode.id, name="Léa", text="Merci", edit_token_sha256="x"))
        upgrade_to_head(database.engine, folder)
        assert stored_revisions(database) == ["9001"]
        with database.session() as session:
            assert session.scalars(select(Utterance.text)).all() == ["bonjour"]
            assert session.scalars(select(Comment.text)).all() == ["Merci"]
        with database.sessions.begin() as session:  # foreign keys hold again after the migration
            session.delete(session.scalar(select(Episode)))
        with database.session() as session:
            assert session.scalars(select(Utterance.id)).all() == [] and session.scalars(select(Comment.id)).all() == []
    finally:
        database.dispose()


OPEN_WHEN_TOLD = """
import pathlib, sys, time
from archive.db import Database
from archive.settings import Settings
go = pathlib.Path(sys.argv[2])
pathlib.Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
Database(Settings(data_dir=pathlib.Path(sys.argv[1]), database_url=sys.argv[4] or None)).dispose()
print("ouverte")
"""


def test_processes_opening_a_new_database_together_migrate_it_once(tmp_path, database_url):
    """Three processes, released at the same instant on an empty database: all open it, none trips on another."""
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(3)]
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_WHEN_TOLD, str(tmp_path), str(go), str(flag),
                                   database_url or ""], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for flag in ready]
    while not all(flag.exists() for flag in ready) and all(p.poll() is None for p in processes):
        time.sleep(0.05)
    go.touch()
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 3, [err for _, err in outcomes]
    database = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        assert stored_revisions(database) == [head_revision()]
        assert differences(database) == []
    finally:
        database.dispose()


def test_values_come_back_the_same_from_both_databases(tmp_path, database_url):
    """Aware UTC datetimes, booleans, JSON, sizes over 2 GB, and text cut to its column: whichever database."""
    database = Database(Settings(data_dir=tmp_path, database_url=database_url))
    paris = dt.timezone(dt.timedelta(hours=2))
    try:
        with database.sessions.begin() as session:
            episode = Episode(slug="un", title="T" * 400 + "\x00", date=dt.date(2026, 3, 12), duration=1.5,
                              audio_sha256="a" * 64, audio_ext="wav", audio_mime="audio/wav", audio_size=5_000_000_000,
                              created_at=dt.datetime(2026, 3, 12, 10, 0, tzinfo=paris))
            session.add(episode)
            session.flush()
            session.add(Comment(episode_id=episode.id, name="Léa\x00", text="Bonjour\x00 !", edit_token_sha256="x",
                                created_at=dt.datetime(2026, 3, 12, 8, 0)))
            session.add(Producer(email="a@b.fr", password_hash="h"))
            revisions.bump(session)
            revisions.bump(session)
        with database.session() as session:
            episode = session.scalar(select(Episode))
            assert episode.title == "T" * 300
            assert episode.audio_size == 5_000_000_000
            assert episode.created_at == dt.datetime(2026, 3, 12, 8, 0, tzinfo=dt.UTC)
            assert episode.created_at.tzinfo is not None
            assert episode.soundbite_picked is False and episode.status == "published"
            comment = session.scalar(select(Comment))
            assert (comment.name, comment.text, comment.approved) == ("Léa", "Bonjour !", False)
            assert comment.created_at == dt.datetime(2026, 3, 12, 8, 0, tzinfo=dt.UTC)
            assert session.scalar(select(Producer.failed_logins)) == 0
            number, changed_at = revisions.current(session)
            assert number == 2 and changed_at.tzinfo is not None
    finally:
        database.dispose()


def test_an_unreachable_server_is_named_in_a_french_error(tmp_path):
    port = free_port()  # nothing listens there
    with pytest.raises(DatabaseUnavailable) as error:
        Database(Settings(data_dir=tmp_path, database_url=f"postgresql://parole:secret@127.0.0.1:{port}/archive"))
    message = str(error.value)
    assert f"127.0.0.1:{port}" in message and "injoignable" in message and "archive" in message
    assert "secret" not in message and "\n" not in message


def test_an_invalid_url_is_a_french_error(tmp_path):
    with pytest.raises(DatabaseUnavailable) as error:
        Database(Settings(data_dir=tmp_path, database_url="pas une adresse"))
    assert "PAROLE_DATABASE_URL" in str(error.value)
