"""Job records in the catalogue database: what is queued, who runs it, how far it got, how it ended.

Huey only carries a job id; the truth about a job lives in the ``jobs`` table, so the
studio, ``parole jobs`` and every worker (on any machine sharing the database) see the
same state. A worker *claims* a job with one conditional UPDATE and holds a *lease*
that it renews while it works: a job is never run twice at once, and a job whose worker
died (lease expired) can be taken up again.

This module stays light (no speech models, no Huey at import) so the web process can
queue uploads without loading anything heavy.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, or_, select, update

from archive.db import Database
from archive.models import Episode, Job
from archive.records import EpisodeMeta, Guest
from archive.settings import Settings

if TYPE_CHECKING:
    from archive.store import Archive
    from ingest.diarize import SpeakerCount

UPLOADS = "uploads"
"""Where queued audio waits, inside the data folder, until its job is done."""

STAGES = ("décodage", "transcription", "locuteurs", "chapitres", "indexation", "audio du podcast")
# The pipeline's stage names → the names jobs show (French, as the studio displays them).
STAGE_NAMES = {"décodage": "décodage", "decode": "décodage", "transcription": "transcription",
               "transcribe": "transcription", "locuteurs": "locuteurs", "diarize": "locuteurs",
               "chapitres": "chapitres", "chapters": "chapitres", "indexation": "indexation", "index": "indexation"}
# The share of the whole job each stage covers, so ``progress`` runs from 0 to 1 once.
STAGE_SPANS = {"décodage": (0.0, 0.05), "transcription": (0.05, 0.75), "locuteurs": (0.75, 0.87),
               "chapitres": (0.87, 0.9), "indexation": (0.9, 0.93), "audio du podcast": (0.93, 1.0),
               "import": (0.0, 1.0)}  # a feed import is one stage, its progress counted in items
INGEST, INGEST_FEED = "ingest", "ingest-feed"
"""Job kinds: one audio file through the pipeline; a whole podcast feed through ``ingest.feed_import``."""
MAX_FEED_URL = 2000
STATUS_LABELS = {"queued": "en attente", "running": "en cours", "done": "terminé", "failed": "échoué"}
MAX_AUTOMATIC_ATTEMPTS = 3
"""A job whose worker vanished this many times is failed rather than re-queued again (it may be what kills them)."""


class JobError(Exception):
    """A job cannot be queued or retried; the message says why, in French."""


@dataclass(frozen=True)
class JobView:
    """A snapshot of a job row, safe to pass around after its session is closed."""

    id: int
    kind: str
    status: str
    stage: str
    progress: float
    error: str
    payload: dict[str, Any]
    episode_id: int | None
    attempts: int
    worker: str
    lease_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def title(self) -> str:
        return str(self.payload.get("meta", {}).get("title", ""))

    @property
    def filename(self) -> str:
        return str(self.payload.get("filename", ""))

    @property
    def abandoned(self) -> bool:
        """Running, but its worker stopped renewing the lease (it died or lost the database)."""
        return self.status == "running" and (self.lease_until is None or self.lease_until < now())

    @property
    def status_label(self) -> str:
        if self.abandoned:
            return "interrompu"
        return STATUS_LABELS.get(self.status, self.status)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without their zone; every time stored here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _view(job: Job) -> JobView:
    return JobView(job.id, job.kind, job.status, job.stage, job.progress, job.error, dict(job.payload or {}),
                   job.episode_id, job.attempts, job.worker, _aware(job.lease_until), _aware(job.created_at),
                   _aware(job.updated_at))


@contextmanager
def opened(source: Archive | Settings) -> Iterator[tuple[Settings, Database]]:
    """The settings and database of an Archive, or of Settings (then opened here and closed after)."""
    if isinstance(source, Settings):
        db = Database(source)
        try:
            yield source, db
        finally:
            db.dispose()
    else:
        yield source.settings, source.db


# -- payload -------------------------------------------------------------------------------


def meta_to_payload(meta: EpisodeMeta) -> dict[str, Any]:
    return {"title": meta.title, "description": meta.description, "date": meta.date.isoformat(),
            "guests": [[g.name, g.role, g.organisation] for g in meta.guests], "draft": meta.draft,
            "episode_number": meta.episode_number, "season": meta.season, "guid": meta.guid}


def meta_from_payload(data: dict[str, Any]) -> EpisodeMeta:
    return EpisodeMeta(data["title"], data.get("description", ""), dt.date.fromisoformat(data["date"]),
                       tuple(Guest(*guest) for guest in data.get("guests", [])), bool(data.get("draft", False)),
                       data.get("episode_number"), data.get("season"), data.get("guid"))


def upload_path(settings: Settings, payload: dict[str, Any]) -> Path:
    """The queued audio file; stored relative to the data folder so machines sharing it agree."""
    return settings.data_dir / payload["audio"]


def _save_upload(settings: Settings, audio_path: Path, filename: str, move: bool) -> Path:
    """Copy (or move) the audio into ``uploads/<random>/<its name>``: error messages then name the right file."""
    folder = settings.data_dir / UPLOADS / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / (Path(filename).name or "audio")
    if move:
        shutil.move(audio_path, target)
    else:
        shutil.copyfile(audio_path, target)
    return target


def remove_upload(settings: Settings, payload: dict[str, Any]) -> None:
    """Once the episode is stored (its audio copied into the media folder) the upload is no longer needed."""
    path = upload_path(settings, payload)
    path.unlink(missing_ok=True)
    if path.parent.parent == settings.data_dir / UPLOADS:
        shutil.rmtree(path.parent, ignore_errors=True)


# -- queueing ------------------------------------------------------------------------------


def enqueue_ingest(source: Archive | Settings, audio_path: Path, meta: EpisodeMeta, *, filename: str | None = None,
                   speakers: SpeakerCount | None = None, chapter_count: int | None = None, move: bool = False) -> int:
    """Save the audio into the data folder's uploads, record a queued job, send it to the workers; returns its id.

    Cheap checks (missing, empty, unsupported format) fail here with an ``AudioError``;
    whether the file really decodes is the worker's business. If the queue cannot be
    reached nothing is left behind and a ``JobError`` says so.
    """
    from ingest.audio import check_file

    audio_path = Path(audio_path)
    check_file(audio_path)
    with opened(source) as (settings, db):
        saved = _save_upload(settings, audio_path, filename or audio_path.name, move)
        payload = {"audio": str(saved.relative_to(settings.data_dir)), "filename": saved.name,
                   "meta": meta_to_payload(meta), "chapter_count": chapter_count,
                   "speakers": None if speakers is None else
                   {"exactly": speakers.exactly, "minimum": speakers.minimum, "maximum": speakers.maximum}}
        return _queue(settings, db, INGEST, payload, cleanup=lambda: remove_upload(settings, payload))


def check_feed_url(url: str) -> str:
    """The feed's web address, trimmed; a ``JobError`` (French) unless it is a plain http(s) address.

    A job's feed is read by a worker on the server: a ``file://`` path or any other scheme
    would let a web form read files there, so only the web is accepted here.
    """
    url = url.strip()
    parts = urlsplit(url)
    if (parts.scheme.lower() not in ("http", "https") or not parts.hostname or len(url) > MAX_FEED_URL
            or any(character.isspace() or ord(character) < 32 for character in url)):
        raise JobError("Adresse de flux invalide : indiquez l'adresse web du flux RSS, commençant par "
                       "http:// ou https:// (par exemple https://exemple.fr/podcast.xml).")
    try:
        _port = parts.port  # raises on a port that is not a number
    except ValueError as error:
        raise JobError("Adresse de flux invalide : le numéro de port n'en est pas un.") from error
    return url


def enqueue_feed_import(source: Archive | Settings, url: str) -> int:
    """Record a queued import of the whole podcast feed at ``url`` and send it to the workers; returns its id.

    The feed is fetched by a worker, never by the process that queues it (the web server
    stays responsive). The payload keeps a ``meta`` title so job lists show something readable.
    """
    url = check_feed_url(url)
    with opened(source) as (settings, db):
        return _queue(settings, db, INGEST_FEED, {"url": url, "meta": {"title": f"Import du flux {url}"}})


def _queue(settings: Settings, db: Database, kind: str, payload: dict[str, Any],
           cleanup: Callable[[], None] | None = None) -> int:
    """Insert the job row, then hand its id to Huey; if the queue is unreachable, undo both and say so."""
    with db.engine.begin() as connection:
        job_id = connection.execute(insert(Job).values(kind=kind, status="queued", payload=payload)
                                    .returning(Job.id)).scalar_one()
    try:
        send(settings, job_id)
    except Exception as error:
        with db.engine.begin() as connection:
            connection.execute(delete(Job).where(Job.id == job_id))
        if cleanup is not None:
            cleanup()
        raise JobError(f"La file de travail est injoignable ({queue_label(settings)}) : {error}") from error
    return job_id


def send(settings: Settings, job_id: int) -> None:
    """Hand the job id to Huey (imported here: only queueing and working need it)."""
    from ingest.worker import get_queue

    get_queue(settings).send(job_id)


def queue_label(settings: Settings) -> str:
    from ingest.worker import queue_description

    return queue_description(settings)


# -- a worker's side ----------------------------------------------------------------------------


def _running_by(job_id: int, worker: str):
    return (Job.id == job_id) & (Job.status == "running") & (Job.worker == worker)


def claim(db: Database, job_id: int, worker: str, lease_seconds: float) -> bool:
    """Take the job if it is queued, or running under an expired lease (its worker died); atomic.

    One UPDATE with the condition in its WHERE clause: of any number of workers racing
    for the same job, exactly one sees a changed row.
    """
    moment = now()
    claimable = (Job.status == "queued") | ((Job.status == "running") & (Job.lease_until < moment))
    with db.engine.begin() as connection:
        changed = connection.execute(
            update(Job).where((Job.id == job_id) & claimable).values(
                status="running", worker=worker, attempts=Job.attempts + 1, stage="", progress=0.0, error="",
                lease_until=moment + dt.timedelta(seconds=lease_seconds), updated_at=moment)
        ).rowcount
    return changed == 1


def renew(db: Database, job_id: int, worker: str, lease_seconds: float) -> bool:
    """Extend the lease; False when this worker no longer holds the job (another took it over)."""
    return _update_held(db, job_id, worker, lease_seconds)


def record_stage(db: Database, job_id: int, worker: str, stage: str, lease_seconds: float) -> bool:
    """Note the stage that starts (French name) and where the overall progress stands; renews the lease."""
    name = STAGE_NAMES.get(stage, stage)
    return _update_held(db, job_id, worker, lease_seconds, stage=name, progress=STAGE_SPANS.get(name, (0.0, 0))[0])


def record_progress(db: Database, job_id: int, worker: str, progress: float, lease_seconds: float) -> bool:
    """Note the overall progress (0 to 1); renews the lease, so it doubles as a heartbeat."""
    return _update_held(db, job_id, worker, lease_seconds, progress=max(0.0, min(1.0, progress)))


def overall_progress(stage: str, done: float, total: float) -> float:
    """Progress through the whole job, from the progress made inside one stage."""
    start, end = STAGE_SPANS.get(STAGE_NAMES.get(stage, stage), (0.0, 0.0))
    share = done / total if total > 0 else 1.0
    return start + (end - start) * max(0.0, min(1.0, share))


def _update_held(db: Database, job_id: int, worker: str, lease_seconds: float, **values: Any) -> bool:
    moment = now()
    with db.engine.begin() as connection:
        return connection.execute(
            update(Job).where(_running_by(job_id, worker)).values(
                lease_until=moment + dt.timedelta(seconds=lease_seconds), updated_at=moment, **values)
        ).rowcount == 1


def finish(db: Database, job_id: int, episode_id: int | None, worker: str | None = None, note: str = "") -> bool:
    """The episode is stored (or the feed imported): the job is done, at 100 %.

    ``note`` (French) is kept in ``error`` for a job that ended but not wholly well: a feed
    import whose feed was read but some of whose items failed.
    """
    return _close(db, job_id, worker, status="done", episode_id=episode_id, progress=1.0, error=note)


def fail(db: Database, job_id: int, reason: str, worker: str | None = None) -> bool:
    """The job cannot succeed as it stands; ``reason`` is shown to producers, in French."""
    return _close(db, job_id, worker, status="failed", error=reason)


def release(db: Database, job_id: int, worker: str) -> bool:
    """The worker was stopped mid-job: back to the queue, and this attempt does not count."""
    return _close(db, job_id, worker, status="queued", stage="", progress=0.0, worker="",
                  attempts=Job.attempts - 1)


def _close(db: Database, job_id: int, holder: str | None, **values: Any) -> bool:
    condition = _running_by(job_id, holder) if holder is not None else (Job.id == job_id)
    with db.engine.begin() as connection:
        return connection.execute(
            update(Job).where(condition).values(lease_until=None, updated_at=now(), **values)).rowcount == 1


# -- an operator's side -------------------------------------------------------------------------


def get_job(db: Database, job_id: int) -> JobView | None:
    with db.session() as session:
        job = session.get(Job, job_id)
        return _view(job) if job else None


def list_jobs(db: Database, limit: int = 50, status: str | None = None) -> list[JobView]:
    """The most recent jobs first."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    with db.session() as session:
        return [_view(job) for job in session.scalars(query)]


def episode_slug(db: Database, episode_id: int | None) -> str | None:
    if episode_id is None:
        return None
    with db.session() as session:
        return session.scalar(select(Episode.slug).where(Episode.id == episode_id))


def _requeue(db: Database, job_id: int) -> bool:
    """Failed, or running under an expired lease → queued again; atomic like ``claim``."""
    moment = now()
    retryable = (Job.status == "failed") | ((Job.status == "running") & or_(Job.lease_until.is_(None),
                                                                            Job.lease_until < moment))
    with db.engine.begin() as connection:
        return connection.execute(
            update(Job).where((Job.id == job_id) & retryable).values(
                status="queued", stage="", progress=0.0, error="", worker="", lease_until=None, updated_at=moment)
        ).rowcount == 1


def retry(source: Archive | Settings, job_id: int) -> JobView:
    """Queue a failed job again, or one whose worker died; anything else is refused with a French reason."""
    with opened(source) as (settings, db):
        if not _requeue(db, job_id):
            raise JobError(_why_not_retryable(get_job(db, job_id), job_id))
        try:
            send(settings, job_id)
        except Exception as error:
            reason = f"La file de travail est injoignable ({queue_label(settings)}) : {error}"
            fail(db, job_id, reason)
            raise JobError(reason) from error
        return get_job(db, job_id)


def _why_not_retryable(job: JobView | None, job_id: int) -> str:
    if job is None:
        return f"Travail {job_id} introuvable (voir « parole jobs »)."
    if job.status == "done":
        return f"Le travail {job_id} est déjà terminé."
    if job.status == "queued":
        return f"Le travail {job_id} est déjà dans la file d'attente."
    until = job.lease_until.astimezone().strftime("%H:%M:%S") if job.lease_until else "?"
    return (f"Le travail {job_id} est en cours ({job.worker}) ; s'il ne donne plus signe de vie, "
            f"il pourra être relancé après {until}.")


def _holder_gone(db: Database, job: JobView) -> bool:
    """A job held by a process of this machine that no longer exists: its lease is ended now.

    A worker restarted after a crash takes its job back at once instead of waiting out the lease.
    """
    import os
    import socket

    from archive.write_journal import process_alive

    host, _, pid = (job.worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid() or process_alive(pid):
        return False
    with db.engine.begin() as connection:
        return connection.execute(update(Job).where(
            (Job.id == job.id) & (Job.status == "running") & (Job.worker == job.worker)).values(
            lease_until=now() - dt.timedelta(seconds=1))).rowcount == 1


def recover(settings: Settings) -> list[int]:
    """Re-queue jobs whose worker vanished (lease expired, or its process here is gone); fail those that already
    wore out several workers.

    Run when a consumer starts and every minute by its scheduler, so a dead worker's job
    resumes without anyone typing ``parole jobs --retry``.
    """
    requeued = []
    with opened(settings) as (_settings, db):
        for job in list_jobs(db, limit=1000, status="running"):
            if not job.abandoned and not _holder_gone(db, job):
                continue
            if job.attempts >= MAX_AUTOMATIC_ATTEMPTS:
                fail(db, job.id, f"Le traitement s'est interrompu {job.attempts} fois (le processus de travail a "
                                 "disparu, peut-être faute de mémoire) : relancez-le avec « parole jobs --retry ».",
                     worker=job.worker)
            elif _requeue(db, job.id):
                send(settings, job.id)
                requeued.append(job.id)
    return requeued
