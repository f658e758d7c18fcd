"""Bad files never leave anything behind: exit code 2, one French line, the archive unchanged (on each database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.engines import open_search_index
from archive.models import Episode, EpisodePerson, Person, Utterance
from ingest.synth import Turn, synthesize
from tests.conftest import DATABASES, make_data_dir, new_database
from tests.helpers import encode_mp3, free_port, run_parole, settings_for, write_wav


def snapshot(data_dir: Path, engine: str = "whoosh") -> dict:
    """Everything a failed ingest could have touched."""
    settings = settings_for(data_dir, search_engine=engine)
    database = Database(settings)
    with database.session() as session:
        counts = {table.__name__: session.scalar(select(func.count()).select_from(table))
                  for table in (Episode, Utterance, Person, EpisodePerson)}
    database.dispose()
    media = sorted(str(p.relative_to(data_dir)) for p in settings.media_dir.rglob("*"))
    return {**counts, "index": open_search_index(settings).document_count(), "media": media}


@pytest.fixture(scope="module", params=DATABASES)
def small_archive(request, tmp_path_factory, model_cache) -> Path:
    """An archive that already holds one short episode, to prove nothing of it is lost."""
    data = make_data_dir(tmp_path_factory, model_cache, f"small-{request.param}", new_database(request, request.param))
    speech = synthesize([Turn("guest1", "Bonjour, je suis agent territorial à la mairie.")])
    audio = speech.write_wav(data.parent / "court.wav")
    result = run_parole(data, "ingest", str(audio), "--title", "Un court épisode", "--guest", "Ana Lopez|DGS")
    assert result.returncode == 0, result.stderr
    return data


def _bad_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(16_000 * 6) / 16_000)
    good_mp3 = encode_mp3(write_wav(folder / "tone.wav", tone), folder / "tone.mp3")
    truncated = folder / "tronque.mp3"
    truncated.write_bytes(good_mp3.read_bytes()[: good_mp3.stat().st_size // 3])
    empty = folder / "vide.wav"
    empty.write_bytes(b"")
    text = folder / "texte.mp3"
    text.write_text("Ceci n'est pas de l'audio, seulement du texte.\n" * 50)
    unsupported = folder / "notes.txt"
    unsupported.write_text("bonjour")
    return {"vide": empty, "texte": text, "tronque": truncated, "absent": folder / "absent.wav",
            "format": unsupported}


EXPECTED_WORDS = {"vide": "vide", "texte": "illisible", "tronque": "tronqué", "absent": "introuvable",
                  "format": "non pris en charge"}


@pytest.mark.parametrize("case", sorted(EXPECTED_WORDS))
def test_bad_file_is_refused_and_nothing_changes(small_archive, tmp_path, case):
    path = _bad_files(tmp_path / "files")[case]
    before = snapshot(small_archive)
    result = run_parole(small_archive, "ingest", str(path), "--title", "Mauvais fichier")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Erreur :") and EXPECTED_WORDS[case] in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(small_archive) == before
    assert before["Episode"] == 1 and before["index"] >= 2


def test_bad_date_is_refused(small_archive, tmp_path):
    audio = write_wav(tmp_path / "a.wav", np.zeros(16_000))
    result = run_parole(small_archive, "ingest", str(audio), "--title", "X", "--date", "12/03/2026")
    assert result.returncode == 2 and "Date invalide" in result.stderr


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_failure_while_indexing_rolls_everything_back(small_archive, tmp_path, monkeypatch, engine):
    """Another process holds the index writer: the episode must not half-exist."""
    import archive.indexing
    from archive.records import EpisodeMeta, SourceAudio
    from archive.records import Utterance as Record
    from archive.store import Archive
    from ingest.audio import file_sha256

    monkeypatch.setattr(archive.indexing, "WRITER_TIMEOUT", 0.5)
    audio = write_wav(tmp_path / "b.wav", 0.1 * np.random.default_rng(1).standard_normal(16_000))
    source = SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 1.0)
    store = Archive(settings_for(small_archive, search_engine=engine))
    before = snapshot(small_archive, engine)
    assert before["index"] > 0
    lock = store.index.open().writer()  # a writer held elsewhere
    try:
        with pytest.raises(archive.indexing.IndexBusyError):
            store.save_episode(EpisodeMeta("Bloqué"), source, [Record(None, 0.0, 1.0, "bonjour")])
    finally:
        if engine == "whoosh":
            lock.cancel()
        else:
            lock.rollback()
            lock.wait_merging_threads()
        store.close()
    assert snapshot(small_archive, engine) == before


def test_unreachable_database_is_one_french_line_naming_the_server(fresh_data):
    port = free_port()  # nothing listens there
    result = run_parole(fresh_data, "reindex", PAROLE_DATABASE_URL=f"postgresql://parole:secret@127.0.0.1:{port}/parole")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Erreur :") and f"127.0.0.1:{port}" in lines[0] and "injoignable" in lines[0]
    assert "secret" not in result.stderr
