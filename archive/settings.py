"""One settings object for the whole application, read from ``PAROLE_*`` variables.

Every default works on a laptop with nothing else running: the data folder holds the
SQLite database, the media files, the search index and the model cache.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

# URL schemes people write for PostgreSQL; SQLAlchemy would read them as psycopg2, which Parole does not install.
_POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def with_installed_driver(url: str) -> str:
    """``postgresql://…`` or ``postgres://…`` → ``postgresql+psycopg://…`` (psycopg 3); other URLs unchanged."""
    for scheme in _POSTGRESQL_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAROLE_", extra="ignore")

    data_dir: Path = Path("parole-data")
    # SQLite in the data folder by default; postgresql://user:password@host/base for a shared server.
    database_url: str | None = None
    model_dir: Path | None = None
    base_url: str = "http://127.0.0.1:8000"
    # Signs studio sessions; by default a random key kept in the data folder.
    secret_key: str | None = None
    # The largest audio file the studio accepts (1 GB).
    max_upload_bytes: int = 1_000_000_000
    # Whoosh (pure Python) suits an archive of a few hundred episodes; tantivy a much larger one.
    search_engine: Literal["whoosh", "tantivy"] = "whoosh"

    # The work queue (Huey): SQLite in the data folder by default; redis://… lets several machines share the work.
    queue_url: str | None = None
    # A worker holds a job this long without a heartbeat; after that the job counts as abandoned and can be retried.
    job_lease_seconds: float = 120.0

    # Transcription
    language: str = "fr"
    beam_size: int = 5
    compute_type: str = "int8"
    cpu_threads: int = 0
    random_seed: int = 1
    # Long episodes are transcribed in pieces of about this many seconds, cut at silences; each
    # finished piece is kept on disk, so an interrupted run starts again after the last one.
    transcription_chunk_seconds: float = 300.0
    # The glossary (names, places, institutions, acronyms, one per line) guides the recogniser;
    # the studio edits it. Empty: glossaire.txt in the data folder.
    glossary_file: Path | None = None

    # Chapters: the shortest chapter, as a share of the episode (2 minutes in 45 minutes).
    chapter_min_share: float = 2 / 45

    # Programme (feed and pages)
    programme_title: str = "La parole est à vous"
    programme_tagline: str = "Une émission où les agents parlent de leurs métiers et de leurs savoir-faire"
    programme_author: str = "La parole est à vous"
    owner_name: str = "La parole est à vous"
    owner_email: str = "contact@laparoleestavous.fr"
    itunes_category: str = "Government"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return with_installed_driver(self.database_url.strip())
        return f"sqlite:///{(self.data_dir / 'parole.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def index_dir(self) -> Path:
        """Each engine has its own folder, so switching engines rebuilds the other's index from the store."""
        return self.data_dir / ("index" if self.search_engine == "whoosh" else f"index-{self.search_engine}")

    @property
    def glossary_path(self) -> Path:
        return self.glossary_file or self.data_dir / "glossaire.txt"

    @property
    def transcription_work_dir(self) -> Path:
        """Finished pieces of transcriptions still running (or interrupted), kept to resume them."""
        return self.data_dir / "transcriptions-en-cours"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def public_base_url(self) -> str:
        return self.base_url.rstrip("/")
