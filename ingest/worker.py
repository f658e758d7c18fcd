"""The work queue's consumer side: Huey tasks that run ingest and feed-import jobs outside the web process.

Huey carries job ids only (SQLite file in the data folder by default, Redis when
``PAROLE_QUEUE_URL=redis://…`` so several machines share the work); the job's state
lives in the catalogue (see ``ingest.jobs``). Each worker is a forked process that keeps
its speech model loaded between jobs (``ingest.models.load_whisper`` caches it per
process). A job is claimed under a lease renewed by a heartbeat and by progress
reports: if the worker dies, the lease runs out and the job can be taken up again; the
store writes an episode whole or not at all, so nothing half-made is left behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from archive.db import Database
from archive.settings import Settings
from ingest import jobs

if TYPE_CHECKING:
    from ingest.feed_import import ItemOutcome
    from ingest.feed_reading import FeedItem

QUEUE_FILE = "queue.db"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
log = logging.getLogger("parole.worker")


class QueueError(Exception):
    """The queue setting cannot be used; the message says why, in French."""


class LeaseLost(Exception):
    """Another worker took this job over (our lease had run out): stop working on it."""


@dataclass(frozen=True)
class Queue:
    """A Huey instance and the ingest task registered on it."""

    huey: Huey
    task: TaskWrapper

    def send(self, job_id: int) -> None:
        self.task(job_id)


def queue_description(settings: Settings) -> str:
    """Where the queue is, for messages (a Redis URL's password is not shown)."""
    url = settings.queue_url
    if not url:
        return f"SQLite {settings.data_dir / QUEUE_FILE}"
    if "@" in url and url.startswith(REDIS_SCHEMES):
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


def build_huey(settings: Settings) -> Huey:
    """SqliteHuey in the data folder, or RedisHuey for ``redis://`` (``sqlite:///path`` picks another file)."""
    url = settings.queue_url
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("parole", filename=str(settings.data_dir / QUEUE_FILE), results=False, immediate=False)
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey("parole", url=url, results=False, immediate=False)
    if url.startswith("sqlite:///"):
        return SqliteHuey("parole", filename=url.removeprefix("sqlite:///"), results=False, immediate=False)
    raise QueueError(f"PAROLE_QUEUE_URL non reconnue : « {url} » (attendu : redis://hôte:port/0 ou sqlite:///chemin).")


def check_queue(settings: Settings) -> None:
    """Reach the queue once, so a wrong setting or a stopped Redis is one clear message, not a log storm."""
    huey = build_huey(settings)
    try:
        huey.storage.queue_size()
    except Exception as error:
        raise QueueError(f"File de travail injoignable ({queue_description(settings)}) : {error}") from error
    finally:
        huey.storage.close()


def build_queue(settings: Settings) -> Queue:
    """The Huey instance with Parole's tasks: ``ingest`` (one job) and ``recover`` (every minute)."""
    huey = build_huey(settings)

    @huey.task(name="parole_ingest")
    def ingest(job_id: int) -> str:
        return process(job_id, settings)

    @huey.periodic_task(crontab(minute="*"), name="parole_recover")
    def recover() -> None:
        for job_id in jobs.recover(settings):
            log.info("Travail %s : son processus de travail a disparu, il est remis dans la file.", job_id)

    return Queue(huey, ingest)


_queues: dict[tuple[str, str], Queue] = {}
_queues_lock = threading.Lock()


def get_queue(settings: Settings) -> Queue:
    """One Queue per queue location and data folder in this process (the web process reuses it per upload)."""
    key = (settings.queue_url or "", str(Path(settings.data_dir).resolve()))
    with _queues_lock:
        if key not in _queues:
            _queues[key] = build_queue(settings)
        return _queues[key]


def worker_name() -> str:
    """Who runs a job, as shown in ``parole jobs``: the machine and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


# -- running one job ------------------------------------------------------------------------


class JobReporter:
    """The pipeline's callbacks for one job: stage and progress into the job row, the lease kept alive.

    Progress writes are spaced out (a long episode reports hundreds of segments); a
    heartbeat thread renews the lease through stages that report nothing (speakers).
    """

    def __init__(self, db: Database, job_id: int, worker: str, settings: Settings) -> None:
        self.db, self.job_id, self.worker, self.settings = db, job_id, worker, settings
        self.lease = settings.job_lease_seconds
        self.stage_name = ""
        self._last_write = 0.0
        self._lost = threading.Event()

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLost(f"le travail {self.job_id} a été repris par un autre processus")

    def _held(self, still_held: bool) -> None:
        if not still_held:
            self._lost.set()
        self.check()

    def on_stage(self, name: str) -> None:
        self.stage_name = jobs.STAGE_NAMES.get(name, name)
        log.info("Travail %s : %s", self.job_id, self.stage_name)
        self._held(jobs.record_stage(self.db, self.job_id, self.worker, name, self.lease))
        if self.stage_name == "transcription":
            note_model(self.settings)

    def on_progress(self, done: float, total: float) -> None:
        moment = time.monotonic()
        if moment - self._last_write < 0.5 and done < total:
            self.check()
            return
        self._last_write = moment
        progress = jobs.overall_progress(self.stage_name, done, total)
        self._held(jobs.record_progress(self.db, self.job_id, self.worker, progress, self.lease))

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(max(self.lease / 3, 0.2)):
                if not jobs.renew(self.db, self.job_id, self.worker, self.lease):
                    self._lost.set()
                    return

        thread = threading.Thread(target=beat, name=f"bail-{self.job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


_models_seen: set[int] = set()


def note_model(settings: Settings) -> None:
    """Load the speech model now (cached for the life of this process) and say so the first time."""
    from ingest.models import load_whisper

    started = time.perf_counter()
    model = load_whisper(settings)
    if id(model) not in _models_seen:
        _models_seen.add(id(model))
        log.info("Modèle de transcription chargé en %.1f s (processus %s).", time.perf_counter() - started,
                 os.getpid())


def process(job_id: int, settings: Settings, worker: str | None = None) -> str:
    """Claim job ``job_id`` and run it by its kind (see ``RUNNERS``); returns "done", "failed", "skipped" or "lost".

    "skipped": the job is finished, failed, or held by a live worker (a duplicate
    message, or a retry racing a recovery): never run twice at once.
    """
    from archive.store import Archive

    worker = worker or worker_name()
    archive = Archive(settings)
    try:
        if not jobs.claim(archive.db, job_id, worker, settings.job_lease_seconds):
            job = jobs.get_job(archive.db, job_id)
            state = job.status_label if job else "introuvable dans la base (la base est-elle partagée ?)"
            log.info("Travail %s ignoré : %s.", job_id, state)
            return "skipped"
        job = jobs.get_job(archive.db, job_id)
        log.info("Travail %s pris par %s : « %s » (%s).", job_id, worker, job.title, job.filename or job.kind)
        return _run(archive, settings, job, worker)
    finally:
        archive.close()


class JobFailed(Exception):
    """The job cannot succeed as it stands (bad audio, unreadable feed, no model); the message is French."""


@contextmanager
def _expected(*kinds: type[Exception]) -> Iterator[None]:
    """The errors a kind of job may end in, as ``JobFailed``: their message is what producers see."""
    try:
        yield
    except kinds as error:
        raise JobFailed(str(error)) from error


def _run(archive, settings: Settings, job: jobs.JobView, worker: str) -> str:
    """Run a claimed job by its kind; however it ends, the job row says so (or it goes back to the queue)."""
    runner = RUNNERS.get(job.kind)
    if runner is None:
        return _failed(archive.db, job.id, f"Type de travail inconnu : « {job.kind} ».", worker)
    reporter = JobReporter(archive.db, job.id, worker, settings)
    try:
        return runner(archive, settings, job, reporter)
    except JobFailed as error:
        return _failed(archive.db, job.id, str(error), worker)
    except LeaseLost:
        log.warning("Travail %s : repris par un autre processus après expiration du bail, abandonné ici.", job.id)
        return "lost"
    except KeyboardInterrupt:
        _put_back(archive.db, settings, job.id, worker)
        raise
    except Exception as error:
        log.exception("Travail %s : erreur inattendue.", job.id)
        stage = f" à l'étape « {reporter.stage_name} »" if reporter.stage_name else ""
        return _failed(archive.db, job.id, f"Erreur inattendue{stage} : {type(error).__name__}: {error}", worker)


def _ingest(archive, settings: Settings, job: jobs.JobView, reporter: JobReporter) -> str:
    """One uploaded audio file through the pipeline, then the podcast MP3."""
    from ingest.audio import AudioError
    from ingest.diarize import SpeakerCount
    from ingest.models import ModelError
    from ingest.pipeline import ingest_file

    speakers = SpeakerCount(**job.payload["speakers"]) if job.payload.get("speakers") else SpeakerCount()
    started = time.perf_counter()
    with _expected(AudioError, ModelError), reporter.heartbeat():
        result = ingest_file(jobs.upload_path(settings, job.payload), jobs.meta_from_payload(job.payload["meta"]),
                             archive, settings, on_stage=reporter.on_stage, on_progress=reporter.on_progress,
                             speakers=speakers, chapter_count=job.payload.get("chapter_count"))
        reporter.check()
        if archive.lacks_podcast_audio(result.episode.id):
            reporter.on_stage("audio du podcast")
            _make_podcast_audio(archive, settings, job, result.episode.id)
            reporter.check()
    jobs.finish(archive.db, job.id, result.episode.id, reporter.worker)
    jobs.remove_upload(settings, job.payload)
    already = "" if result.episode.created else " (cet audio était déjà dans l'archive)"
    log.info("Travail %s terminé en %.0f s : épisode %s%s.", job.id, time.perf_counter() - started,
             result.episode.slug, already)
    return "done"


FAILURES_LISTED = 10
"""A feed import's note names this many failed items at most (a dead feed can fail hundreds)."""


@dataclass
class ItemProgress:
    """A feed import's progress: items finished out of the feed's items, written through the job's reporter."""

    reporter: JobReporter
    job_id: int
    total: int = 0
    done: int = 0

    def started(self, position: int, total: int, item: FeedItem) -> None:
        log.info("Travail %s : [%s/%s] « %s »", self.job_id, position, total, item.title)
        self.total = total
        self.reporter.on_progress(position - 1, total)

    def finished(self, outcome: ItemOutcome) -> None:
        self.done += 1
        self.reporter.on_progress(self.done, self.total)


def _import_feed(archive, settings: Settings, job: jobs.JobView, reporter: JobReporter) -> str:
    """A whole podcast feed, item after item, as ``parole ingest-feed`` does it.

    The job is done once the feed was read, even if some items failed (their reasons are
    kept in the job's note); it fails only when the feed itself cannot be read, or when
    what is missing would fail every item alike (no speech or speaker model).
    """
    from ingest.feed_import import import_feed, summary
    from ingest.feed_reading import FeedError
    from ingest.models import ModelError
    from ingest.speaker_model import SpeakerModelError

    started = time.perf_counter()
    progress = ItemProgress(reporter, job.id)
    with _expected(jobs.JobError, FeedError, ModelError, SpeakerModelError), reporter.heartbeat():
        url = jobs.check_feed_url(job.payload.get("url", ""))  # a row written by hand must not read local files
        reporter.on_stage("import")
        report = import_feed(url, settings, settings.max_upload_bytes, progress.started, progress.finished)
        reporter.check()
    note = _failures_note(summary(report), report.outcomes)
    jobs.finish(archive.db, job.id, None, reporter.worker, note)
    log.info("Travail %s terminé en %.0f s : %s.", job.id, time.perf_counter() - started, summary(report))
    return "done"


def _failures_note(summary_line: str, outcomes: list[ItemOutcome]) -> str:
    """The summary and why items failed, for the job's ``error``; empty when nothing failed."""
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    if not failed:
        return ""
    reasons = [f"« {outcome.title} » : {outcome.reason}" for outcome in failed[:FAILURES_LISTED]]
    if len(failed) > FAILURES_LISTED:
        reasons.append(f"et {len(failed) - FAILURES_LISTED} autres")
    return f"{summary_line}. Échecs : {' ; '.join(reasons)}."


RUNNERS: dict[str, Callable[..., str]] = {jobs.INGEST: _ingest, jobs.INGEST_FEED: _import_feed}
"""What runs a job of each kind: (archive, settings, job, reporter) → "done"; failures raise."""


def _make_podcast_audio(archive, settings: Settings, job: jobs.JobView, episode_id: int) -> None:
    """The MP3 for podcast apps; without it the feed offers the original file, so a failure is only logged."""
    import subprocess
    import tempfile

    from pydub.exceptions import PydubException

    from ingest.podcast_audio import encode_podcast_mp3

    meta = jobs.meta_from_payload(job.payload["meta"])
    with tempfile.TemporaryDirectory(dir=settings.data_dir) as folder:
        try:
            mp3 = encode_podcast_mp3(jobs.upload_path(settings, job.payload), Path(folder) / "podcast.mp3",
                                     meta.title, settings.programme_title, meta.date, meta.episode_number)
            archive.attach_podcast_audio(episode_id, mp3)
        except (OSError, subprocess.CalledProcessError, ValueError, PydubException) as error:
            log.warning("Travail %s : MP3 du podcast non produit (%s) ; le flux proposera le fichier d'origine.",
                        job.id, error)


def _failed(db: Database, job_id: int, reason: str, worker: str) -> str:
    jobs.fail(db, job_id, reason, worker)
    log.warning("Travail %s échoué : %s", job_id, reason)
    return "failed"


def _put_back(db: Database, settings: Settings, job_id: int, worker: str) -> None:
    """Stopped mid-job (Ctrl-C twice, or SIGTERM): the job goes back to the queue for the next worker.

    Further stop signals wait until this is done: a second one must not cut the hand-back short.
    """
    stops = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        if jobs.release(db, job_id, worker):
            jobs.send(settings, job_id)
            log.warning("Travail %s interrompu : remis dans la file d'attente.", job_id)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# -- the consumer ---------------------------------------------------------------------------


def run_consumer(settings: Settings, workers: int = 1) -> None:
    """Run Huey's consumer in the foreground until Ctrl-C (graceful) or SIGTERM (jobs put back in the queue).

    Workers are forked processes (each loads its own model on its first job); nothing
    holding a database connection or a model exists in this parent before the fork.
    """
    from archive.store import Archive

    Archive(settings).close()  # opening settles the writes a dead process left unfinished (archive/write_journal.py)
    for job_id in jobs.recover(settings):  # jobs of a worker that died here (kill -9, power cut) resume now
        log.info("Travail %s : son processus de travail a disparu, il est remis dans la file.", job_id)
    queue = get_queue(settings)
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="process", periodic=True, initial_delay=0.1, backoff=1.15, max_delay=1.0,
        check_worker_health=True, health_check_interval=5)
    consumer.run()
