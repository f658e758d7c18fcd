"""SQL tables: the catalogue is the source of truth; everything else derives from it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class PortableString(TypeDecorator):
    """VARCHAR(n) that behaves the same on SQLite and PostgreSQL.

    PostgreSQL refuses NUL characters and text longer than the column, where SQLite keeps
    both: NULs are dropped from every value sent (lookups too), and ``keep_text_storable``
    cuts what a model is given to the column's length.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return _without_nul(value)


class PortableText(TypeDecorator):
    """TEXT without NUL characters, which PostgreSQL cannot store."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return _without_nul(value)


class UTCDateTime(TypeDecorator):
    """A moment stored in UTC and always read back aware, whichever database holds it.

    SQLite hands datetimes back without a zone and PostgreSQL in the session's zone;
    both come back here as UTC, so code compares them without guessing.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Named constraints: a later migration can drop or change them by name, on SQLite (batch mode) as on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Episode(Base):
    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(PortableString(120), unique=True, index=True)
    # Permanent feed identity; an episode imported from an older feed keeps that feed's guid.
    guid: Mapped[str] = mapped_column(PortableString(500), unique=True, default=lambda: str(uuid.uuid4()))
    title: Mapped[str] = mapped_column(PortableString(300))
    description: Mapped[str] = mapped_column(PortableText, default="")
    date: Mapped[dt.date] = mapped_column(Date)
    duration: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(PortableString(8), default="fr")
    audio_sha256: Mapped[str] = mapped_column(PortableString(64), unique=True, index=True)
    audio_ext: Mapped[str] = mapped_column(PortableString(8))
    audio_mime: Mapped[str] = mapped_column(PortableString(40))
    audio_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    # "draft" until a producer publishes it; a published episode dated in the future is scheduled.
    status: Mapped[str] = mapped_column(PortableString(16), default="published", server_default="published")
    episode_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    season: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The passage offered to share (15 to 120 s): proposed at ingest, or picked by a producer.
    soundbite_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    soundbite_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    soundbite_title: Mapped[str | None] = mapped_column(PortableString(128), nullable=True)
    soundbite_picked: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The MP3 podcast apps download (128 kb/s, loudness evened out, ID3 tags), made by the worker.
    podcast_sha256: Mapped[str | None] = mapped_column(PortableString(64), nullable=True)
    podcast_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    utterances: Mapped[list[Utterance]] = relationship(
        back_populates="episode", order_by="Utterance.position", cascade="all, delete-orphan"
    )
    people: Mapped[list[EpisodePerson]] = relationship(
        back_populates="episode", order_by=lambda: (EpisodePerson.position, EpisodePerson.id),
        cascade="all, delete-orphan",
    )
    speakers: Mapped[list[EpisodeSpeaker]] = relationship(
        back_populates="episode", order_by="EpisodeSpeaker.label", cascade="all, delete-orphan"
    )
    chapters: Mapped[list[Chapter]] = relationship(
        back_populates="episode", order_by=lambda: (Chapter.start, Chapter.id), cascade="all, delete-orphan",
    )


class Utterance(Base):
    """A stretch of speech by one speaker, with its words and their times."""

    __tablename__ = "utterances"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(PortableString(40), nullable=True)
    text: Mapped[str] = mapped_column(PortableText)
    # [[text, start, end, probability], ...]: compact and enough to rebuild any format.
    words: Mapped[list] = mapped_column(JSON, default=list)
    # What the machine heard, kept when a producer corrects the text.
    original_text: Mapped[str | None] = mapped_column(PortableText, nullable=True)
    # Bumped by each correction: a save based on an older version is refused, not lost.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    episode: Mapped[Episode] = relationship(back_populates="utterances")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(PortableString(120), unique=True, index=True)
    name: Mapped[str] = mapped_column(PortableString(200))
    role: Mapped[str] = mapped_column(PortableString(300), default="")
    organisation: Mapped[str] = mapped_column(PortableString(300), default="")
    bio: Mapped[str] = mapped_column(PortableText, default="")
    link: Mapped[str] = mapped_column(PortableString(500), default="")
    # Mean voice embedding over the episodes where a producer named this person.
    voiceprint: Mapped[list | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    voiceprint_count: Mapped[int] = mapped_column(Integer, default=0)

    appearances: Mapped[list[EpisodePerson]] = relationship(back_populates="person")
    voices: Mapped[list[EpisodeSpeaker]] = relationship(back_populates="person")


class EpisodePerson(Base):
    """Who takes part in an episode, and as what (guest or host)."""

    __tablename__ = "episode_people"
    __table_args__ = (UniqueConstraint("episode_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(PortableString(20), default="guest")
    position: Mapped[int] = mapped_column(Integer, default=0)

    episode: Mapped[Episode] = relationship(back_populates="people")
    person: Mapped[Person] = relationship(back_populates="appearances")


class EpisodeSpeaker(Base):
    """A voice found in an episode ("SPEAKER_2"), and the person it is, once known."""

    __tablename__ = "episode_speakers"
    __table_args__ = (UniqueConstraint("episode_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(PortableString(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    # True when the voice matched a known person's voiceprint and no producer has confirmed it yet.
    auto_recognized: Mapped[bool] = mapped_column(default=False)
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_time: Mapped[float] = mapped_column(Float, default=0.0)
    embedding: Mapped[list | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    episode: Mapped[Episode] = relationship(back_populates="speakers")
    person: Mapped[Person | None] = relationship(back_populates="voices")


class Chapter(Base):
    """A part of an episode about one subject. ``edited`` protects a producer's changes."""

    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(PortableString(200))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    edited: Mapped[bool] = mapped_column(default=False)

    episode: Mapped[Episode] = relationship(back_populates="chapters")


class CatalogueRevision(Base):
    """One row counting changes to the catalogue: what the feed cache and its ETag follow."""

    __tablename__ = "catalogue_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)


class Producer(Base):
    """Someone allowed into the studio: uploads, corrects, names, publishes."""

    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(PortableString(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(PortableString(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiToken(Base):
    """A token a producer creates for scripts calling the write API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(PortableString(120))
    token_sha256: Mapped[str] = mapped_column(PortableString(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)


class Job(Base):
    """A piece of processing done by a worker (an upload to transcribe), with its stage and outcome.

    status: queued → running → done | failed; a failed job (or one whose worker died,
    its lease expired) can be queued again. ``lease_until`` is how a job is never run
    twice at once: a worker claims it only if nobody holds a live lease.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(PortableString(40), default="ingest")
    status: Mapped[str] = mapped_column(PortableString(16), default="queued", index=True)
    stage: Mapped[str] = mapped_column(PortableString(40), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(PortableText, default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(PortableString(200), default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)


class Comment(Base):
    """A listener's comment on an episode: hidden until a producer approves it.

    The author's private edit link holds a random token; only its sha256 is kept, so a
    copy of the database cannot be used to edit anyone's comment. ``client_hash`` is a
    keyed hash of the sender's IP (never the IP itself), enough to spot abuse.
    """

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(PortableString(80))
    text: Mapped[str] = mapped_column(PortableText)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    approved: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    edit_token_sha256: Mapped[str] = mapped_column(PortableString(64))
    client_hash: Mapped[str] = mapped_column(PortableString(64), default="")

    episode: Mapped[Episode] = relationship()


def _storable(length: int | None):
    def make_storable(_target, value, _old, _initiator):
        value = _without_nul(value)
        return value[:length] if length and isinstance(value, str) and len(value) > length else value

    return make_storable


def keep_text_storable() -> None:
    """Text set on a model loses its NUL characters and is cut to its column's length.

    PostgreSQL would refuse both. Doing it when the attribute is set (not only when the row
    is written) keeps the object, the row and the search index showing the same text, on
    SQLite as on PostgreSQL.
    """
    for mapper in Base.registry.mappers:
        for attribute in mapper.column_attrs:
            kind = attribute.columns[0].type
            if isinstance(kind, PortableString | PortableText):
                event.listen(attribute.class_attribute, "set", _storable(getattr(kind, "length", None)), retval=True)


keep_text_storable()
