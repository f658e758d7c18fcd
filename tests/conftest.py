"""Shared fixtures: the real model (assembled once), data folders, databases, a served archive."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.settings import Settings
from ingest.models import assemble_base_model
from ingest.synth import INTERVIEW, Synthesis, synthesize
from tests.helpers import PostgreSQLServer, Server, postgresql_binaries, run_parole, start_server, use_database

DATABASES = ["sqlite", "postgresql"]
"""The databases Parole supports; tests parametrized over them run once on each."""


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """The packaged Whisper model, assembled once for the whole test session."""
    cache = tmp_path_factory.mktemp("models")
    assemble_base_model(cache)
    return cache


@pytest.fixture
def fresh_data(tmp_path, model_cache) -> Path:
    """An empty data folder that shares the session's assembled model."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(model_cache, target_is_directory=True)
    return data


def make_data_dir(tmp_path_factory, model_cache: Path, name: str, database_url: str | None = None) -> Path:
    """A data folder sharing the session's model; with ``database_url``, bound to that database (see helpers)."""
    data = tmp_path_factory.mktemp(name)
    (data / "models").symlink_to(model_cache, target_is_directory=True)
    use_database(data, database_url)
    return data


@pytest.fixture(scope="session")
def postgresql_server():
    """One private PostgreSQL for the session; each test or fixture gets its own database in it."""
    binaries = postgresql_binaries()
    if binaries is None:
        reason = "PostgreSQL absent de cette machine (/usr/lib/postgresql/*/bin) : apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(reason + " (la CI doit tester PostgreSQL : voir .ci/run)")
        pytest.skip(reason)
    server = PostgreSQLServer.start(binaries)
    yield server
    server.stop()


def new_database(request: pytest.FixtureRequest, kind: str) -> str | None:
    """None for SQLite (a file in the data folder, the default); a new, empty PostgreSQL database's URL otherwise."""
    if kind == "sqlite":
        return None
    return request.getfixturevalue("postgresql_server").create_database()


@pytest.fixture(params=DATABASES)
def database_url(request) -> str | None:
    """Runs the test once on SQLite (None) and once on a fresh PostgreSQL database (its URL)."""
    return new_database(request, request.param)


@pytest.fixture(scope="session")
def interview(tmp_path_factory) -> tuple[Path, Synthesis]:
    """A three-voice French interview with exact turn times."""
    synthesis = synthesize(INTERVIEW)
    path = synthesis.write_wav(tmp_path_factory.mktemp("audio") / "entretien.wav")
    return path, synthesis


@dataclass
class ServedArchive:
    data_dir: Path
    slug: str
    audio: Path
    synthesis: Synthesis
    server: Server
    database_url: str | None = None  # None: SQLite in data_dir

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    @property
    def env(self) -> dict[str, str]:
        """What a command run on this archive needs besides its folder (run_parole adds it already)."""
        return {"PAROLE_DATABASE_URL": self.database_url} if self.database_url else {}


@pytest.fixture(scope="session", params=DATABASES)
def served_archive(request, tmp_path_factory, model_cache, interview) -> ServedArchive:
    """The interview ingested with the real CLI, served by a real ``parole serve``, on each database."""
    database_url = new_database(request, request.param)
    data = make_data_dir(tmp_path_factory, model_cache, f"served-{request.param}", database_url)
    audio, synthesis = interview
    result = run_parole(data, "ingest", str(audio), "--title", "La participation citoyenne au quotidien",
                        "--description", "Deux agents racontent comment ils associent les habitants.",
                        "--date", "2026-03-12", "--guest", "Jo Spiegel|maire de Kingersheim")
    assert result.returncode == 0, result.stderr
    server = start_server(data)
    yield ServedArchive(data, "la-participation-citoyenne-au-quotidien", audio, synthesis, server, database_url)
    server.stop()


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser); .ci/run installs both."""
    import shutil

    executable = shutil.which("chromium") or "/usr/lib/chromium/chromium"
    if not Path(executable).exists():
        pytest.skip("Chromium absent de cette machine : apt-get install chromium (fait par .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
