"""``parole verify`` finds damaged media, missing audio and an index out of step; ``--repair`` fixes what is derived.

Each test builds a small archive through the real store (two episodes, real media files,
a real index), damages it as a disk or a crash would, and runs the real CLI on it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from archive.db import Database
from archive.engines import open_search_index
from archive.media import media_path
from archive.models import Episode
from archive.records import EpisodeMeta, SourceAudio, Utterance
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import run_parole, start_server, use_database, write_wav

PASSAGES = ["Nous organisons des ateliers dans chaque quartier avant les travaux de voirie.",
            "Les lecteurs ont choisi une partie des livres achetés par la médiathèque.",
            "Le conseil municipal a voté le budget après une grande réunion publique."]
SEARCHED = "ateliers quartier"
AN_HOUR_AGO = time.time() - 3600


def build_archive(data: Path, database_url: str | None = None, engine: str = "whoosh") -> Path:
    """Two episodes with their audio, utterances and index documents, saved by the real store."""
    data.mkdir(exist_ok=True)
    use_database(data, database_url)
    archive = Archive(Settings(data_dir=data, database_url=database_url, search_engine=engine))
    try:
        for number, title in enumerate(["Les ateliers de quartier", "Le budget de la médiathèque"]):
            audio = write_wav(data.parent / f"episode-{number}.wav",
                              0.01 * np.random.default_rng(number).standard_normal(48_000))
            utterances = [Utterance("SPEAKER_1", 3.0 * index, 3.0 * index + 2.5, text)
                          for index, text in enumerate(PASSAGES)]
            archive.save_episode(EpisodeMeta(title, date=dt.date(2026, 3, 12 + number)),
                                 SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 3.0), utterances)
    finally:
        archive.close()
    return data


def verify(data: Path, *options: str, engine: str = "whoosh"):
    return run_parole(data, "verify", *options, PAROLE_SEARCH_ENGINE=engine)


def audio_file(data: Path) -> Path:
    """The first episode's audio in the media folder."""
    database = Database(Settings(data_dir=data))
    try:
        with database.session() as session:
            sha256, extension = session.execute(select(Episode.audio_sha256, Episode.audio_ext)
                                                .order_by(Episode.id).limit(1)).one()
    finally:
        database.dispose()
    return media_path(data / "media", sha256, extension)


def test_a_healthy_archive_verifies_clean(tmp_path, database_url):
    data = build_archive(tmp_path / "donnees", database_url)
    result = verify(data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ("Tout est en ordre : 2 épisodes, 2 fichiers médias vérifiés, "
                                     "8 documents dans l'index.")


def garbage_everywhere(index_dir: Path) -> None:
    for path in index_dir.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage\xff" * 64)


def garbage_in_the_live_index(index_dir: Path) -> None:
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    garbage_everywhere(live)


def segments_deleted(index_dir: Path) -> None:
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    segments = [path for path in live.iterdir() if path.suffix in (".seg", ".term", ".idx", ".store", ".pos")]
    assert segments
    for path in segments:
        path.unlink()


DAMAGES = {"tout-ecrase": garbage_everywhere, "segments-ecrases": garbage_in_the_live_index,
           "segments-supprimes": segments_deleted}


@pytest.mark.parametrize(("engine", "damage"), [("whoosh", "tout-ecrase"), ("whoosh", "segments-ecrases"),
                                               ("whoosh", "segments-supprimes"), ("tantivy", "segments-ecrases")])
def test_a_damaged_index_is_reported_then_rebuilt_by_repair(tmp_path, engine, damage):
    data = build_archive(tmp_path / "donnees", engine=engine)
    index_dir = Settings(data_dir=data, search_engine=engine).index_dir
    DAMAGES[damage](index_dir)

    found = verify(data, engine=engine)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "Index de recherche illisible" in found.stdout and "--repair" in found.stdout
    assert "Traceback" not in found.stderr

    repaired = verify(data, "--repair", engine=engine)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "index reconstruit (8 documents)" in repaired.stdout and "Tout est réparé" in repaired.stdout
    again = verify(data, engine=engine)
    assert again.returncode == 0 and again.stdout.startswith("Tout est en ordre"), again.stdout

    server = start_server(data, PAROLE_SEARCH_ENGINE=engine)
    try:
        answer = httpx.get(server.base_url + "/api/search", params={"q": SEARCHED}, timeout=30).json()
        page = httpx.get(server.base_url + "/recherche", params={"q": SEARCHED}, timeout=30)
    finally:
        server.stop()
    assert answer["passage_count"] == 2
    assert page.status_code == 200 and "<mark>ateliers</mark>" in page.text


def test_the_site_and_the_commands_open_an_archive_whose_index_is_damaged(tmp_path):
    """Nothing crashes on a damaged index: the store rebuilds it as the archive opens."""
    data = build_archive(tmp_path / "donnees")
    garbage_in_the_live_index(data / "index")
    listed = run_parole(data, "episode", "les-ateliers-de-quartier")
    assert listed.returncode == 0 and "Titre : Les ateliers de quartier" in listed.stdout, listed.stderr
    segments_deleted(data / "index")
    server = start_server(data)
    try:
        answer = httpx.get(server.base_url + "/api/search", params={"q": SEARCHED}, timeout=30).json()
    finally:
        server.stop()
    assert answer["passage_count"] == 2


def test_documents_missing_from_the_index_are_reported_by_episode_and_put_back(tmp_path):
    data = build_archive(tmp_path / "donnees")
    open_search_index(Settings(data_dir=data)).delete_episode(1)
    found = verify(data)
    assert found.returncode == 1
    assert ("Index différent de la base pour l'épisode « les-ateliers-de-quartier » — manquent : "
            "1 fiche d'épisode, 3 passages.") in found.stdout
    assert verify(data, "--repair").returncode == 0
    assert verify(data).returncode == 0


def test_a_damaged_media_file_is_reported_by_name_and_never_repaired_away(tmp_path):
    data = build_archive(tmp_path / "donnees")
    audio = audio_file(data)
    content = bytearray(audio.read_bytes())
    content[len(content) // 2] ^= 0x01
    audio.write_bytes(bytes(content))
    os.utime(audio, (AN_HOUR_AGO, AN_HOUR_AGO))

    for options in ((), ("--repair",)):
        result = verify(data, *options)
        assert result.returncode == 1, result.stdout
        assert f"Média abîmé : media/{audio.parent.name}/{audio.name}" in result.stdout
        assert "« les-ateliers-de-quartier »" in result.stdout and "depuis une sauvegarde" in result.stdout
    assert audio.read_bytes() == bytes(content)  # still there, still as damaged: only a backup can restore it

    exported = run_parole(data, "export", str(tmp_path / "sauvegarde.tar"))
    assert exported.returncode == 2 and "ne correspond plus à son empreinte sha256" in exported.stderr
    assert not any(path.suffix in (".tar", ".tmp") for path in tmp_path.iterdir())  # no backup of a damaged file


def test_a_missing_audio_file_is_reported(tmp_path):
    data = build_archive(tmp_path / "donnees")
    audio = audio_file(data)
    audio.unlink()
    result = verify(data, "--repair")
    assert result.returncode == 1
    assert (f"Média manquant : media/{audio.parent.name}/{audio.name} "
            "(l'audio de l'épisode « les-ateliers-de-quartier »)") in result.stdout


def test_orphan_and_leftover_media_files_are_removed_once_old_enough(tmp_path):
    data = build_archive(tmp_path / "donnees")
    orphan = media_path(data / "media", "ab" * 32, "wav")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"RIFF d'un envoi abandonne")
    audio = audio_file(data)
    leftover = audio.with_name(f".{audio.name}.4242.tmp")
    leftover.write_bytes(b"copie interrompue")
    recent = media_path(data / "media", "cd" * 32, "mp3")
    recent.parent.mkdir(parents=True)
    recent.write_bytes(b"en cours de copie")
    for path in (orphan, leftover):
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))

    found = verify(data)
    assert found.returncode == 1
    assert f"Fichier média orphelin : media/ab/{orphan.name} (aucun épisode ne l'utilise)." in found.stdout
    assert f"Fichier temporaire abandonné : media/{leftover.parent.name}/{leftover.name}." in found.stdout
    assert f"laissé en place (sans doute en cours d'enregistrement) : media/cd/{recent.name}" in found.stdout

    repaired = verify(data, "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert not orphan.exists() and not orphan.parent.exists() and not leftover.exists()
    assert recent.exists() and audio.exists()


def test_verify_without_an_archive_is_a_usage_error(tmp_path):
    result = verify(tmp_path / "vide")
    assert result.returncode == 2
    assert "Aucune archive" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "vide").exists()
