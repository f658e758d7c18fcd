"""The whole schema as Parole first shipped it with Alembic.

Written out table by table rather than taken from archive/models.py, so that this
revision stays what it was when the models move on; later revisions change it.
``TABLES`` and ``INDEXES`` are also read by archive/migrations/legacy.py, which brings
an archive made before Alembic up to this revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id(table: str) -> list[sa.SchemaItem]:
    return [sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id", name=f"pk_{table}")]


def _parent(table: str, column: str, parent: str, ondelete: str, nullable: bool = False) -> list[sa.SchemaItem]:
    return [sa.Column(column, sa.Integer(), nullable=nullable),
            sa.ForeignKeyConstraint([column], [f"{parent}.id"], name=f"fk_{table}_{column}_{parent}",
                                    ondelete=ondelete)]


def _moment(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def episodes() -> list[sa.SchemaItem]:
    return [
        *_id("episodes"),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("guid", sa.String(500), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("audio_ext", sa.String(8), nullable=False),
        sa.Column("audio_mime", sa.String(40), nullable=False),
        sa.Column("audio_size", sa.BigInteger(), nullable=False),
        _moment("created_at"),
        sa.Column("status", sa.String(16), server_default="published", nullable=False),
        sa.Column("episode_number", sa.Integer(), nullable=True),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("soundbite_start", sa.Float(), nullable=True),
        sa.Column("soundbite_duration", sa.Float(), nullable=True),
        sa.Column("soundbite_title", sa.String(128), nullable=True),
        sa.Column("soundbite_picked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("podcast_sha256", sa.String(64), nullable=True),
        sa.Column("podcast_size", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("guid", name="uq_episodes_guid"),
    ]


def people() -> list[sa.SchemaItem]:
    return [
        *_id("people"),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(300), nullable=False),
        sa.Column("organisation", sa.String(300), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("voiceprint", sa.JSON(), nullable=True),
        sa.Column("voiceprint_count", sa.Integer(), nullable=False),
    ]


def producers() -> list[sa.SchemaItem]:
    return [
        *_id("producers"),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        _moment("created_at"),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        _moment("last_failed_at", nullable=True),
    ]


def catalogue_revision() -> list[sa.SchemaItem]:
    return [
        *_id("catalogue_revision"),
        sa.Column("number", sa.Integer(), nullable=False),
        _moment("changed_at"),
    ]


def utterances() -> list[sa.SchemaItem]:
    return [
        *_id("utterances"),
        *_parent("utterances", "episode_id", "episodes", "CASCADE"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("speaker", sa.String(40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    ]


def episode_people() -> list[sa.SchemaItem]:
    return [
        *_id("episode_people"),
        *_parent("episode_people", "episode_id", "episodes", "CASCADE"),
        *_parent("episode_people", "person_id", "people", "CASCADE"),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("episode_id", "person_id", name="uq_episode_people_episode_id_person_id"),
    ]


def episode_speakers() -> list[sa.SchemaItem]:
    return [
        *_id("episode_speakers"),
        *_parent("episode_speakers", "episode_id", "episodes", "CASCADE"),
        sa.Column("label", sa.String(40), nullable=False),
        *_parent("episode_speakers", "person_id", "people", "SET NULL", nullable=True),
        sa.Column("auto_recognized", sa.Boolean(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("talk_time", sa.Float(), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=True),
        sa.UniqueConstraint("episode_id", "label", name="uq_episode_speakers_episode_id_label"),
    ]


def chapters() -> list[sa.SchemaItem]:
    return [
        *_id("chapters"),
        *_parent("chapters", "episode_id", "episodes", "CASCADE"),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
    ]


def api_tokens() -> list[sa.SchemaItem]:
    return [
        *_id("api_tokens"),
        *_parent("api_tokens", "producer_id", "producers", "CASCADE"),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        _moment("created_at"),
    ]


def jobs() -> list[sa.SchemaItem]:
    return [
        *_id("jobs"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        *_parent("jobs", "episode_id", "episodes", "SET NULL", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        _moment("lease_until", nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
    ]


def comments() -> list[sa.SchemaItem]:
    return [
        *_id("comments"),
        *_parent("comments", "episode_id", "episodes", "CASCADE"),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.Column("approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        _moment("approved_at", nullable=True),
        sa.Column("edit_token_sha256", sa.String(64), nullable=False),
        sa.Column("client_hash", sa.String(64), nullable=False),
    ]


# Parents before children, so every foreign key points at a table that exists.
TABLES: dict[str, Callable[[], list[sa.SchemaItem]]] = {
    "episodes": episodes,
    "people": people,
    "producers": producers,
    "catalogue_revision": catalogue_revision,
    "utterances": utterances,
    "episode_people": episode_people,
    "episode_speakers": episode_speakers,
    "chapters": chapters,
    "api_tokens": api_tokens,
    "jobs": jobs,
    "comments": comments,
}

# table → (index name, columns, unique)
INDEXES: dict[str, list[tuple[str, list[str], bool]]] = {
    "episodes": [("ix_episodes_slug", ["slug"], True), ("ix_episodes_audio_sha256", ["audio_sha256"], True)],
    "people": [("ix_people_slug", ["slug"], True)],
    "producers": [("ix_producers_email", ["email"], True)],
    "utterances": [("ix_utterances_episode_id", ["episode_id"], False)],
    "episode_people": [("ix_episode_people_episode_id", ["episode_id"], False),
                       ("ix_episode_people_person_id", ["person_id"], False)],
    "episode_speakers": [("ix_episode_speakers_episode_id", ["episode_id"], False),
                         ("ix_episode_speakers_person_id", ["person_id"], False)],
    "chapters": [("ix_chapters_episode_id", ["episode_id"], False)],
    "api_tokens": [("ix_api_tokens_producer_id", ["producer_id"], False),
                   ("ix_api_tokens_token_sha256", ["token_sha256"], True)],
    "jobs": [("ix_jobs_status", ["status"], False)],
    "comments": [("ix_comments_episode_id", ["episode_id"], False), ("ix_comments_approved", ["approved"], False)],
}


def create_table(name: str) -> None:
    op.create_table(name, *TABLES[name]())
    for index, columns, unique in INDEXES.get(name, []):
        op.create_index(index, name, columns, unique=unique)


def upgrade() -> None:
    for name in TABLES:
        create_table(name)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
