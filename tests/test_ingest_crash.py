"""``kill -9`` of the worker at each stage of an ingest, then a restart: nothing half stored, the job completes.

The worker kills its whole process group at a precise point (tests/crash_worker.py): while
decoding, in the middle of transcription, after copying the audio and writing the rows but
before the commit, after the index commit but before the SQL commit, and while storing the
podcast MP3 of an episode already committed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Episode, Utterance
from archive.settings import Settings
from archive.store import Archive
from archive.write_journal import process_alive
from ingest import jobs
from tests.conftest import make_data_dir
from tests.helpers import REPO, parole_env, run_parole
from tests.test_jobs import SHORT, finished, job_id_of, start_worker, stop_worker, synth_wav, wait_for

FAST = {"PAROLE_JOB_LEASE_SECONDS": "600", "PAROLE_BEAM_SIZE": "1"}  # a long lease: the restart must not wait it out

# stage shown in the job row → (function, before/after, which call)
KILL_POINTS = {
    "décodage": ("décodage", "ingest.pipeline:load_audio", "before", 1),
    "transcription": ("transcription", "ingest.worker:JobReporter.on_progress", "before", 1),
    "lignes écrites": ("indexation", "archive.store:recognise_voices", "after", 1),
    "index écrit": ("indexation", "archive.whoosh_index:WhooshIndex.add_episode", "after", 1),
    "audio du podcast": ("audio du podcast", "archive.store:store_media", "after", 2),
}


def media_files(settings: Settings) -> set[str]:
    media = settings.media_dir
    return {path.name for path in media.rglob("*") if path.is_file()} if media.exists() else set()


def wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while process_alive(str(pid)):
        assert time.monotonic() < deadline, f"le processus {pid} survit au kill -9"
        time.sleep(0.05)


def journal_entries(data: Path) -> list[Path]:
    return list((data / "journal").glob("*")) if (data / "journal").exists() else []


def stored(settings: Settings) -> tuple[int, int, set[str]]:
    """Episodes, utterances and the media files they reference."""
    db = Database(settings)
    try:
        with db.session() as session:
            episodes = session.scalars(select(Episode)).all()
            utterances = session.scalar(select(func.count(Utterance.id)))
            referenced = {f"{e.audio_sha256}.{e.audio_ext}" for e in episodes}
            referenced |= {f"{e.podcast_sha256}.mp3" for e in episodes if e.podcast_sha256}
            return len(episodes), utterances, referenced
    finally:
        db.dispose()


def index_counts(settings: Settings) -> tuple[int, int]:
    """(episode documents, passage documents), read after the archive has been opened (which settles a crash)."""
    archive = Archive(settings)
    try:
        return archive.index.document_count("episode"), archive.index.document_count("utterance")
    finally:
        archive.close()


@pytest.fixture(scope="module")
def short_interview(tmp_path_factory) -> Path:
    return synth_wav(tmp_path_factory.mktemp("crash") / "ateliers.wav", SHORT)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_then_restart_leaves_one_whole_episode(point, short_interview, tmp_path_factory, model_cache,
                                                       tmp_path):
    stage, target, when, nth = KILL_POINTS[point]
    data = make_data_dir(tmp_path_factory, model_cache, "crash")
    settings = Settings(data_dir=data)
    job_id = job_id_of(run_parole(data, "enqueue", str(short_interview), "--title", "Les ateliers de quartier"))

    log = tmp_path / "killed.log"
    with log.open("w") as out:
        killed = subprocess.Popen([sys.executable, "tests/crash_worker.py", target, when, str(nth)], cwd=REPO,
                                  env=parole_env(data, **FAST), stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    assert killed.wait(timeout=300) == -9, log.read_text()

    db = Database(settings)
    try:
        job = jobs.get_job(db, job_id)
        assert (job.status, job.stage) == ("running", stage), log.read_text()
    finally:
        db.dispose()
    wait_until_gone(int(job.worker.rpartition(":")[2]))  # the job's process was a child of the one reaped above

    # What anyone opening the archive now sees: nothing half stored, no stray file, no stray index document.
    episodes, utterances, referenced = stored(settings)
    committed = point == "audio du podcast"  # the episode was whole before its MP3 was made
    assert episodes == (1 if committed else 0)
    assert index_counts(settings) == ((1, utterances) if committed else (0, 0))
    assert media_files(settings) == referenced
    assert not journal_entries(data)

    log = tmp_path / "restarted.log"
    worker = start_worker(data, log, **FAST)
    try:
        db = Database(settings)
        try:
            job = wait_for(db, job_id, finished, 300, worker, log)
        finally:
            db.dispose()
    finally:
        stop_worker(worker)
    assert (job.status, job.attempts, job.error) == ("done", 2, ""), log.read_text()
    assert "son processus de travail a disparu" in log.read_text()

    episodes, utterances, referenced = stored(settings)
    assert episodes == 1 and utterances >= 2
    assert len(referenced) == 2  # the audio and the podcast MP3, nothing else
    assert media_files(settings) == referenced
    assert index_counts(settings) == (1, utterances)
    assert not journal_entries(data)
