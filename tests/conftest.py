"""Shared fixtures: the real model (assembled once), data folders, a served archive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.settings import Settings
from ingest.models import assemble_base_model
from ingest.synth import INTERVIEW, Synthesis, synthesize
from tests.helpers import Server, run_parole, start_server


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


def make_data_dir(tmp_path_factory, model_cache: Path, name: str) -> Path:
    data = tmp_path_factory.mktemp(name)
    (data / "models").symlink_to(model_cache, target_is_directory=True)
    return data


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

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir)


@pytest.fixture(scope="session")
def served_archive(tmp_path_factory, model_cache, interview) -> ServedArchive:
    """The interview ingested with the real CLI, served by a real ``parole serve``."""
    data = make_data_dir(tmp_path_factory, model_cache, "served")
    audio, synthesis = interview
    result = run_parole(data, "ingest", str(audio), "--title", "La participation citoyenne au quotidien",
                        "--description", "Deux agents racontent comment ils associent les habitants.",
                        "--date", "2026-03-12", "--guest", "Jo Spiegel|maire de Kingersheim")
    assert result.returncode == 0, result.stderr
    server = start_server(data)
    yield ServedArchive(data, "la-participation-citoyenne-au-quotidien", audio, synthesis, server)
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
