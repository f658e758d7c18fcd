"""The work queue with its default SQLite storage: real ``parole enqueue``, ``parole worker`` and ``parole jobs``.

Jobs are followed through their rows in the catalogue, as the studio follows them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select, update

from archive.db import Database
from archive.models import Episode, Job
from archive.records import EpisodeMeta
from archive.settings import Settings
from archive.store import Archive
from ingest import jobs
from ingest.synth import INTERVIEW, Turn, synthesize
from tests.conftest import make_data_dir
from tests.helpers import REPO, free_port, parole_env, run_parole, start_server, write_wav

SHORT = [Turn("host", "Bonjour et bienvenue. Parlons de la participation citoyenne dans les communes."),
         Turn("guest1", "Nous organisons des ateliers dans chaque quartier avec les habitants.")]


# -- helpers shared with test_worker_redis.py ------------------------------------------------


def synth_wav(path: Path, script: list[Turn]) -> Path:
    return synthesize(script).write_wav(path)


def start_worker(data: Path, log: Path, *args: str, **env: str) -> subprocess.Popen:
    """``parole worker`` in its own process group, so a test can kill all of it at once."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "parole", "worker", *args], cwd=REPO,
                                env=parole_env(data, **env), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_worker(process: subprocess.Popen, timeout: float = 30) -> int:
    """Ctrl-C, as at a terminal; the worker must stop by itself."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError("le worker ne s'est pas arrêté après Ctrl-C") from None


def wait_for(db: Database, job_id: int, done: Callable[[jobs.JobView], bool], timeout: float = 180,
             process: subprocess.Popen | None = None, log: Path | None = None) -> jobs.JobView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get_job(db, job_id)
        if job is not None and done(job):
            return job
        if process is not None and process.poll() is not None:
            raise AssertionError(f"le worker s'est arrêté : {log.read_text() if log else ''}")
        time.sleep(0.1)
    raise AssertionError(f"délai dépassé, travail : {jobs.get_job(db, job_id)}\n{log.read_text() if log else ''}")


def finished(job: jobs.JobView) -> bool:
    return job.status in ("done", "failed")


def job_id_of(result: subprocess.CompletedProcess) -> int:
    assert result.returncode == 0, result.stderr
    return int(re.search(r"Travail (\d+) mis dans la file", result.stdout).group(1))


def episode_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(Episode.id)))


# -- the records alone (no worker) -----------------------------------------------------------


@pytest.fixture
def queued(tmp_path) -> tuple[Settings, Database, int]:
    """One queued job on a tiny valid-looking WAV, in a fresh data folder."""
    settings = Settings(data_dir=tmp_path / "data")
    wav = write_wav(tmp_path / "bip.wav", np.sin(np.linspace(0, 2000, 16_000)) * 0.3)
    job_id = jobs.enqueue_ingest(settings, wav, EpisodeMeta("Un essai", date=dt.date(2026, 3, 12)))
    db = Database(settings)
    yield settings, db, job_id
    db.dispose()


def test_enqueue_stores_the_upload_and_the_meta(queued):
    settings, db, job_id = queued
    job = jobs.get_job(db, job_id)
    assert (job.status, job.stage, job.progress, job.attempts, job.episode_id) == ("queued", "", 0.0, 0, None)
    assert jobs.upload_path(settings, job.payload).read_bytes()[:4] == b"RIFF"
    assert job.payload["audio"].startswith("uploads/") and job.filename == "bip.wav"
    assert jobs.meta_from_payload(job.payload["meta"]) == EpisodeMeta("Un essai", date=dt.date(2026, 3, 12))
    assert (settings.data_dir / "queue.db").exists()


def test_a_job_is_claimed_once_even_by_racing_workers(queued):
    _settings, db, job_id = queued
    barrier, wins = threading.Barrier(8), []

    def race(name: str) -> None:
        barrier.wait()
        if jobs.claim(db, job_id, name, lease_seconds=60):
            wins.append(name)

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    job = jobs.get_job(db, job_id)
    assert (job.status, job.worker, job.attempts) == ("running", wins[0], 1)
    assert not jobs.claim(db, job_id, "late", lease_seconds=60)
    with pytest.raises(jobs.JobError, match="en cours"):
        jobs.retry(_settings, job_id)


def test_an_expired_lease_lets_another_worker_take_over(queued):
    _settings, db, job_id = queued
    assert jobs.claim(db, job_id, "dead", lease_seconds=0.05)
    time.sleep(0.1)
    assert jobs.claim(db, job_id, "alive", lease_seconds=60)
    # The first worker, if it was only slow, learns it lost the job and may not finish it.
    assert not jobs.record_progress(db, job_id, "dead", 0.5, lease_seconds=60)
    assert not jobs.finish(db, job_id, 1, worker="dead")
    assert jobs.record_stage(db, job_id, "alive", "transcription", lease_seconds=60)
    job = jobs.get_job(db, job_id)
    assert (job.worker, job.attempts, job.stage, job.progress) == ("alive", 2, "transcription", 0.05)


def test_retry_only_failed_or_abandoned_jobs(queued):
    settings, db, job_id = queued
    with pytest.raises(jobs.JobError, match="déjà dans la file"):
        jobs.retry(settings, job_id)
    with pytest.raises(jobs.JobError, match="introuvable"):
        jobs.retry(settings, 999)
    assert jobs.claim(db, job_id, "w", lease_seconds=60)
    assert jobs.fail(db, job_id, "Fichier audio illisible.", worker="w")
    assert jobs.retry(settings, job_id).status == "queued"
    assert jobs.claim(db, job_id, "w", lease_seconds=60)
    with db.engine.begin() as connection:  # done, as a worker leaves it (without making a whole episode here)
        connection.execute(update(Job).where(Job.id == job_id).values(status="done", lease_until=None))
    with pytest.raises(jobs.JobError, match="déjà terminé"):
        jobs.retry(settings, job_id)


def test_recover_requeues_abandoned_jobs_then_gives_up(queued):
    settings, db, job_id = queued
    for attempt in range(1, jobs.MAX_AUTOMATIC_ATTEMPTS + 1):
        assert jobs.claim(db, job_id, f"mort-{attempt}", lease_seconds=0.01)
        time.sleep(0.05)
        requeued = jobs.recover(settings)
        assert requeued == ([job_id] if attempt < jobs.MAX_AUTOMATIC_ATTEMPTS else [])
    job = jobs.get_job(db, job_id)
    assert job.status == "failed" and "interrompu 3 fois" in job.error


# -- the real commands -----------------------------------------------------------------------


def test_sqlite_queue_end_to_end(tmp_path_factory, model_cache, tmp_path):
    """enqueue → worker → episode stored, searchable; the job says where it got to; Ctrl-C stops the worker."""
    data = make_data_dir(tmp_path_factory, model_cache, "queue")
    wav = synth_wav(tmp_path / "participation.wav", SHORT)
    job_id = job_id_of(run_parole(data, "enqueue", str(wav), "--title", "Les ateliers de quartier",
                                  "--date", "2026-03-12", "--guest", "Léa Martin|bibliothécaire", "--draft",
                                  "--number", "4", "--season", "2"))
    settings = Settings(data_dir=data)
    db = Database(settings)
    try:
        queued = jobs.get_job(db, job_id)
        assert queued.status == "queued" and jobs.upload_path(settings, queued.payload).exists()
        log = tmp_path / "worker.log"
        worker = start_worker(data, log)
        try:
            job = wait_for(db, job_id, finished, process=worker, log=log)
        finally:
            code = stop_worker(worker)
        assert code == 0, log.read_text()
        assert (job.status, job.stage, job.progress, job.error, job.attempts) == (
            "done", "audio du podcast", 1.0, "", 1)
        assert f"pris par {job.worker}" in log.read_text()
        assert not jobs.upload_path(settings, job.payload).exists()
        assert episode_count(db) == 1
        with db.session() as session:
            episode = session.get(Episode, job.episode_id)
            assert (episode.title, episode.status, episode.episode_number, episode.season) == (
                "Les ateliers de quartier", "draft", 4, 2)
        text = log.read_text()
        assert "Travail 1 terminé" in text and "Parole worker arrêté." in text and "Traceback" not in text
        listing = run_parole(data, "jobs")
        assert listing.returncode == 0
        assert re.search(rf"^{job_id}\tterminé\taudio du podcast\t100 %", listing.stdout, re.M)
    finally:
        db.dispose()
    server = start_server(data)
    try:
        # Stored as a draft: indexed, but public search shows it only once it is published.
        found = httpx.get(server.base_url + "/api/search", params={"q": "participation"}).json()
        assert found["episodes"] == []
        assert run_parole(data, "episode", "les-ateliers-de-quartier", "--publish").returncode == 0
        found = httpx.get(server.base_url + "/api/search", params={"q": "participation"}).json()
        assert [group["slug"] for group in found["episodes"]] == ["les-ateliers-de-quartier"]
    finally:
        server.stop()


def test_killed_worker_leaves_nothing_and_the_job_resumes(tmp_path_factory, model_cache, tmp_path):
    """kill -9 in the middle of transcription: no episode, no media, no index document; after the lease, a retry."""
    data = make_data_dir(tmp_path_factory, model_cache, "killed")
    wav = synth_wav(tmp_path / "entretien.wav", INTERVIEW[:5])
    fast = {"PAROLE_JOB_LEASE_SECONDS": "3", "PAROLE_BEAM_SIZE": "1"}
    job_id = job_id_of(run_parole(data, "enqueue", str(wav), "--title", "Entretien interrompu"))
    settings = Settings(data_dir=data, job_lease_seconds=3)
    db = Database(settings)
    try:
        log = tmp_path / "worker-1.log"
        worker = start_worker(data, log, **fast)
        try:
            wait_for(db, job_id, lambda job: job.stage == "transcription" or finished(job), 120, worker, log)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        job = jobs.get_job(db, job_id)
        assert (job.status, job.stage, job.attempts) == ("running", "transcription", 1), log.read_text()
        if job.lease_until > jobs.now() + dt.timedelta(seconds=1):  # a live lease protects the job
            with pytest.raises(jobs.JobError, match="en cours"):
                jobs.retry(settings, job_id)
        _assert_archive_empty(settings, db)

        time.sleep(max(0.0, (job.lease_until - jobs.now()).total_seconds()) + 0.2)
        assert jobs.get_job(db, job_id).status_label == "interrompu"
        retried = run_parole(data, "jobs", "--retry", str(job_id))
        assert retried.returncode == 0 and f"Travail {job_id} remis" in retried.stdout, retried.stderr

        log = tmp_path / "worker-2.log"
        worker = start_worker(data, log, **fast)
        try:
            job = wait_for(db, job_id, finished, 180, worker, log)
        finally:
            stop_worker(worker)
        assert (job.status, job.progress, job.attempts) == ("done", 1.0, 2), job.error
        assert episode_count(db) == 1
    finally:
        db.dispose()


def _assert_archive_empty(settings: Settings, db: Database) -> None:
    assert episode_count(db) == 0
    media = settings.media_dir
    assert not media.exists() or not [path for path in media.rglob("*") if path.is_file()]
    archive = Archive(settings)
    try:
        assert archive.index.document_count() == 0
    finally:
        archive.close()


def _start_served_worker(data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``parole serve --with-worker`` on a free port, waiting until the site answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "parole", "serve", "--port", str(port), "--with-worker"],
                                   cwd=REPO, env=parole_env(data, PAROLE_BASE_URL=url), stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
    process.kill()
    raise AssertionError("le serveur n'a pas répondu en 30 s")


def test_bad_upload_fails_cleanly_in_the_queue(tmp_path_factory, model_cache, tmp_path):
    """A file that is not audio: the job fails with a French reason, twice if retried; no episode, ever."""
    data = make_data_dir(tmp_path_factory, model_cache, "bad")
    missing = run_parole(data, "enqueue", str(tmp_path / "absent.mp3"), "--title", "Rien")
    assert missing.returncode == 2 and "Fichier introuvable" in missing.stderr and "Traceback" not in missing.stderr
    text = tmp_path / "notes.txt"
    text.write_text("pas du son")
    refused = run_parole(data, "enqueue", str(text), "--title", "Rien")
    assert refused.returncode == 2 and "Format non pris en charge" in refused.stderr

    fake = tmp_path / "faux.mp3"
    fake.write_text("Ceci n'est pas un fichier audio, seulement du texte.\n" * 50)
    job_id = job_id_of(run_parole(data, "enqueue", str(fake), "--title", "Fichier abîmé"))
    assert job_id == 1  # the refused files left no job behind
    settings = Settings(data_dir=data)
    db = Database(settings)
    log = tmp_path / "serve.log"
    server, _url = _start_served_worker(data, log)
    try:
        worker_pid = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        job = wait_for(db, job_id, finished, 60, server, log)
        assert job.status == "failed" and job.episode_id is None
        assert "illisible" in job.error and "faux.mp3" in job.error, job.error
        assert job.worker.rsplit(":", 1)[1] != str(server.pid)  # the web process never runs a job

        listing = run_parole(data, "jobs")
        assert re.search(rf"^{job_id}\téchoué\tdécodage\t.*illisible", listing.stdout, re.M), listing.stdout
        retried = run_parole(data, "jobs", "--retry", str(job_id))
        assert retried.returncode == 0, retried.stderr
        job = wait_for(db, job_id, lambda j: j.attempts == 2 and finished(j), 60, server, log)
        assert job.status == "failed" and "illisible" in job.error
        unknown = run_parole(data, "jobs", "--retry", "42")
        assert unknown.returncode == 2 and "Travail 42 introuvable" in unknown.stderr
        assert episode_count(db) == 0
    finally:
        server.terminate()
        server.wait(30)
        db.dispose()
    assert not Path(f"/proc/{worker_pid}").exists(), "le worker doit s'arrêter avec le serveur"
    assert "Traceback" not in log.read_text()


def test_queue_url_must_be_understood(tmp_path):
    result = run_parole(tmp_path / "data", "worker", PAROLE_QUEUE_URL="amqp://ailleurs")
    assert result.returncode == 2 and "PAROLE_QUEUE_URL non reconnue" in result.stderr

