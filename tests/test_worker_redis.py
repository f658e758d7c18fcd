"""The work queue on Redis, as when several machines share the work: two workers, four episodes, each made once.

Starts its own ``redis-server`` (no persistence, a free local port, a temporary folder);
skipped with a reason when the binary is not installed (CI installs it, see ``.ci/run``).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Episode
from archive.records import EpisodeMeta
from archive.settings import Settings
from ingest import jobs
from ingest.synth import Turn
from tests.conftest import make_data_dir
from tests.helpers import free_port, run_parole
from tests.test_jobs import finished, start_worker, stop_worker, synth_wav

LINES = [
    Turn("host", "La bibliothèque ouvre le samedi matin."),
    Turn("guest1", "Les agents entretiennent les routes en hiver."),
    Turn("guest2", "Le conseil municipal vote le budget."),
    Turn("guest3", "Les jeunes apprentis rejoignent les services techniques."),
]


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server for this test, gone with it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server introuvable : installez-le (apt-get install redis-server) pour tester la file Redis")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError("redis-server n'a pas démarré") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    server.terminate()
    server.wait(10)


def _wait_ready(log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while "Parole worker :" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def test_two_workers_share_four_episodes_through_redis(redis_url, tmp_path_factory, model_cache, tmp_path):
    data = make_data_dir(tmp_path_factory, model_cache, "redis")
    settings = Settings(data_dir=data, queue_url=redis_url)
    env = {"PAROLE_QUEUE_URL": redis_url, "PAROLE_CPU_THREADS": "1", "PAROLE_BEAM_SIZE": "1"}
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(data, log, **env) for log in logs]
    db = Database(settings)
    try:
        for log in logs:
            _wait_ready(log)
        time.sleep(1)  # both consumers are now blocked on the Redis list
        ids = [jobs.enqueue_ingest(settings, synth_wav(tmp_path / f"episode-{n}.wav", [line]),
                                   EpisodeMeta(f"Épisode {n}")) for n, line in enumerate(LINES, start=1)]
        deadline = time.monotonic() + 240
        while not all(finished(jobs.get_job(db, job_id)) for job_id in ids):
            assert time.monotonic() < deadline, "\n".join(log.read_text() for log in logs)
            assert all(worker.poll() is None for worker in workers), "\n".join(log.read_text() for log in logs)
            time.sleep(0.2)
    finally:
        codes = [stop_worker(worker) for worker in workers]
    try:
        done = [jobs.get_job(db, job_id) for job_id in ids]
        texts = [log.read_text() for log in logs]
        assert [job.status for job in done] == ["done"] * 4, [job.error for job in done]
        assert [job.attempts for job in done] == [1] * 4  # nobody ran a job twice
        assert len({job.episode_id for job in done}) == 4
        with db.session() as session:
            assert session.scalar(select(func.count(Episode.id))) == 4
        by_worker = Counter(job.worker for job in done)
        assert len(by_worker) == 2, by_worker  # the work was shared
        for text in texts:
            assert text.count("Modèle de transcription chargé") == 1, text  # one model per worker, kept between jobs
            assert "Traceback" not in text
        assert codes == [0, 0]
    finally:
        db.dispose()


def test_an_unreachable_redis_is_one_clear_message(tmp_path):
    """Nobody listening on the port: the worker refuses to start, and enqueue leaves no job and no upload behind."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    data = tmp_path / "data"
    worker = run_parole(data, "worker", PAROLE_QUEUE_URL=url)
    assert worker.returncode == 2 and "File de travail injoignable" in worker.stderr, worker.stderr
    wav = synth_wav(tmp_path / "court.wav", LINES[:1])
    queued = run_parole(data, "enqueue", str(wav), "--title", "Perdu", PAROLE_QUEUE_URL=url)
    assert queued.returncode == 2 and "injoignable" in queued.stderr and "Traceback" not in queued.stderr
    db = Database(Settings(data_dir=data))
    try:
        assert jobs.list_jobs(db) == []
    finally:
        db.dispose()
    assert not [path for path in (data / "uploads").rglob("*") if path.is_file()]
