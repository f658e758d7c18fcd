"""``parole enqueue``, ``parole worker`` and ``parole jobs``: processing through the work queue.

Registered on the main Typer app by the last line of ``parole.cli``. Heavy modules are
imported inside the commands so ``parole --help`` stays quick.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Annotated

import typer

from archive.settings import Settings
from parole.cli import (
    AudioFile,
    ChaptersOption,
    DateOption,
    DescriptionOption,
    DraftOption,
    GuestOption,
    MaxSpeakersOption,
    MinSpeakersOption,
    NumberOption,
    SeasonOption,
    SpeakersOption,
    TitleOption,
    app,
    console,
    episode_meta,
    fail,
)


@app.command()
def enqueue(file: AudioFile, title: TitleOption, description: DescriptionOption = "", date: DateOption = None,
            guest: GuestOption = None, speakers: SpeakersOption = None, min_speakers: MinSpeakersOption = 1,
            max_speakers: MaxSpeakersOption = 10, chapters: ChaptersOption = None, draft: DraftOption = False,
            number: NumberOption = None, season: SeasonOption = None) -> None:
    """Copier un fichier audio dans le dossier de données et le mettre dans la file de traitement."""
    from ingest.audio import AudioError
    from ingest.diarize import SpeakerCount
    from ingest.jobs import JobError, enqueue_ingest
    from ingest.worker import QueueError

    if min_speakers > max_speakers:
        fail("--min-speakers ne peut pas dépasser --max-speakers.")
    meta = episode_meta(title, description, date, guest, draft, number, season)
    count = None if speakers is None and (min_speakers, max_speakers) == (1, 10) else \
        SpeakerCount(speakers, min_speakers, max_speakers)
    try:
        job_id = enqueue_ingest(Settings(), file, meta, speakers=count, chapter_count=chapters)
    except (AudioError, JobError, QueueError) as error:
        fail(str(error))
    print(f"Travail {job_id} mis dans la file : « {meta.title} » ({file.name}).")
    console.print("Il sera traité par « parole worker » ; suivre son avancement : parole jobs", highlight=False)


@app.command()
def worker(
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Nombre de processus de travail (chacun charge son modèle).")] = 1,
) -> None:
    """Traiter les travaux de la file (transcription, locuteurs, chapitres, indexation) ; Ctrl-C pour arrêter."""
    from ingest.models import ModelError, model_info
    from ingest.worker import QueueError, check_queue, queue_description, run_consumer

    settings = Settings()
    try:
        check_queue(settings)  # an unusable queue setting or a stopped Redis is said now, not once per job
        model_info(settings)  # and so is a missing model
    except (ModelError, QueueError) as error:
        fail(str(error))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for chatty in ("huey", "faster_whisper"):  # their English progress lines add nothing for producers
        logging.getLogger(chatty).setLevel(logging.WARNING if chatty == "faster_whisper" else logging.ERROR)
    console.print(f"Parole worker : {workers} processus de travail, file {queue_description(settings)}. "
                  "Ctrl-C : arrêt après le travail en cours ; une seconde fois : arrêt immédiat "
                  "(le travail interrompu est remis dans la file).", highlight=False)
    run_consumer(settings, workers)
    console.print("Parole worker arrêté.", highlight=False)


@app.command()
def jobs(
    retry: Annotated[int | None, typer.Option(
        "--retry", help="Relancer ce travail (échoué, ou dont le processus de travail a disparu).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Nombre de travaux affichés.")] = 50,
) -> None:
    """Lister les travaux de la file (les plus récents d'abord), ou en relancer un."""
    from archive.db import Database
    from ingest import jobs as records

    settings = Settings()
    if retry is not None:
        _retry(settings, retry)
        return
    db = Database(settings)
    try:
        found = records.list_jobs(db, limit)
        if not found:
            print("Aucun travail dans la file.")
        for job in found:
            slug = records.episode_slug(db, job.episode_id)
            print("\t".join([str(job.id), job.status_label, job.stage or "—", f"{job.progress * 100:.0f} %",
                             f"« {job.title} »", job.filename, f"épisode {slug}" if slug else "",
                             job.error]).rstrip())
    finally:
        db.dispose()


def _retry(settings: Settings, job_id: int) -> None:
    from ingest.jobs import JobError
    from ingest.jobs import retry as retry_job
    from ingest.worker import QueueError

    try:
        retry_job(settings, job_id)
    except (JobError, QueueError) as error:
        fail(str(error))
    print(f"Travail {job_id} remis dans la file d'attente.")


def start_worker_process() -> subprocess.Popen:
    """``parole worker`` as a child of ``parole serve --with-worker``, in its own session.

    Its own session keeps the terminal's Ctrl-C for the server alone; the server then
    stops the worker itself (see ``stop_worker_process``), so both end together.
    """
    process = subprocess.Popen([sys.executable, "-m", "parole", "worker"], start_new_session=True)
    console.print(f"Processus de travail lancé (pid {process.pid}).", highlight=False)
    return process


def stop_worker_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM: the worker stops at once and puts an unfinished job back in the queue; killed if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    console.print("Processus de travail arrêté.", highlight=False)
