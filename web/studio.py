"""The producers' studio: log in, follow the processing, correct, name, publish.

Every route needs a producer (web.auth.require_producer) and every form a CSRF token.
Forms post and redirect (303) back to the page, so the browser's back button and a
reload never send a form twice; errors come back as a French page with the right status.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from archive import chapters as chapter_edits
from archive.catalogue import publication_time
from archive.chapters import ChapterError
from archive.episode_changes import EpisodeChanges
from archive.models import Episode, Job
from archive.people import NamingError, speaker_names
from archive.producers import check_login
from archive.release import latest_live_date
from archive.store import Archive, EditConflict
from ingest.audio import AudioError
from ingest.jobs import JobError, enqueue_ingest, retry
from web import upload as upload_module
from web.auth import Producer, check_csrf, require_producer
from web.deps import get_archive, render
from web.views import review_rows

router = APIRouter(prefix="/studio", default_response_class=HTMLResponse)
ProducerDep = Annotated[Producer, Depends(require_producer)]
ArchiveDep = Annotated[Archive, Depends(get_archive)]
STATE_LABELS = {"processing": "En traitement", "failed": "Erreur", "review": "À relire", "scheduled": "Programmé",
                "published": "Publié"}


def _back(episode_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/studio/episodes/{episode_id}{anchor}", status_code=303)


# -- logging in and out ---------------------------------------------------------------------


@router.get("/connexion", name="studio_login")
def login_form(request: Request, suite: str = "/studio"):
    sessions = request.app.state.sessions
    token, new = sessions.login_token(request)
    response = render(request, "studio/login.html", {"suite": _local(suite), "error": None, "csrf": token})
    if new:
        sessions.remember_login_token(response, token)
    return response


@router.post("/connexion")
def login(request: Request, archive: ArchiveDep, email: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "", suite: Annotated[str, Form()] = ""):
    sessions = request.app.state.sessions
    sessions.check_login_token(request, csrf)
    with archive.db.sessions.begin() as session:
        result = check_login(session, email[:320], password[:1000])
    if result.producer_id is None:
        if result.wait_seconds:
            error, status = f"Trop de tentatives : réessayez dans {result.wait_seconds} s.", 429
        else:
            error, status = "Adresse ou mot de passe incorrect.", 401
        return render(request, "studio/login.html", {"suite": _local(suite), "error": error, "csrf": csrf,
                                                     "email": email[:320]}, status)
    response = RedirectResponse(_local(suite), status_code=303)
    sessions.open(response, result.producer_id)
    return response


def _local(path: str) -> str:
    """Only a studio path may follow the login: never an address elsewhere."""
    return path if path.startswith("/studio") and not path.startswith("//") else "/studio"


@router.post("/deconnexion")
def logout(request: Request, producer: ProducerDep, csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    response = RedirectResponse("/", status_code=303)
    request.app.state.sessions.close(response)
    return response


# -- the list -------------------------------------------------------------------------------


@router.get("", name="studio_home")
def home(request: Request, producer: ProducerDep, archive: ArchiveDep):
    now = dt.datetime.now(dt.UTC)
    with archive.db.session() as session:
        episodes = session.scalars(select(Episode).order_by(Episode.date.desc(), Episode.id.desc())).all()
        # Unfinished jobs, and finished ones that left a note (a feed import where some items failed).
        jobs = session.scalars(select(Job).where(or_(Job.status != "done", Job.error != ""))
                               .order_by(Job.id.desc()).limit(100)).all()
    groups: dict[str, list] = {state: [] for state in STATE_LABELS}
    for job in jobs:
        groups["processing" if job.status in ("queued", "running") else "failed"].append(job)
    for episode in episodes:
        if episode.status == "draft":
            groups["review"].append(episode)
        else:
            groups["scheduled" if publication_time(episode) > now else "published"].append(episode)
    return render(request, "studio/home.html", {"groups": groups, "labels": STATE_LABELS, "csrf": producer.csrf})


@router.get("/travaux.json", name="studio_jobs", response_class=JSONResponse)
def jobs_progress(producer: ProducerDep, archive: ArchiveDep):
    """Live progress for the list page's polling script."""
    with archive.db.session() as session:
        jobs = session.scalars(select(Job).order_by(Job.id.desc()).limit(50)).all()
        return [{"id": job.id, "status": job.status, "stage": job.stage, "progress": round(job.progress, 3),
                 "error": job.error, "episode_id": job.episode_id} for job in jobs]


# -- reviewing an episode -------------------------------------------------------------------


@router.get("/episodes/{episode_id}", name="studio_episode")
def episode_page(request: Request, episode_id: int, producer: ProducerDep, archive: ArchiveDep):
    with archive.db.session() as session:
        episode = archive.load_episode(session, episode_id)
        if episode is None:
            raise HTTPException(404, "Épisode introuvable.")
        context = {"episode": episode, "rows": review_rows(episode), "names": speaker_names(episode),
                   "csrf": producer.csrf, "published_at": publication_time(episode),
                   "live": episode.status == "published" and publication_time(episode) <= dt.datetime.now(dt.UTC)}
        return render(request, "studio/episode.html", context)


@router.post("/episodes/{episode_id}/passages/{utterance_id}")
def correct(episode_id: int, utterance_id: int, producer: ProducerDep, archive: ArchiveDep,
            text: Annotated[str, Form()] = "", version: Annotated[int, Form()] = 0,
            csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    try:
        archive.correct_utterance(episode_id, utterance_id, text, version)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except EditConflict as error:
        raise HTTPException(409, str(error)) from error
    except ValueError as error:
        raise HTTPException(400, str(error)) from error
    return _back(episode_id, f"#u{utterance_id}")


@router.post("/episodes/{episode_id}/locuteurs")
def name_voice(episode_id: int, producer: ProducerDep, archive: ArchiveDep, label: Annotated[str, Form()] = "",
               name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
               organisation: Annotated[str, Form()] = "", host: Annotated[bool, Form()] = False,
               csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    if not name.strip():
        raise HTTPException(400, "Indiquez le nom de la personne.")
    try:
        archive.name_speaker(episode_id, label, name.strip()[:200], role.strip()[:300], organisation.strip()[:300],
                             host)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except NamingError as error:
        raise HTTPException(400, str(error)) from error
    return _back(episode_id, "#locuteurs")


@router.post("/episodes/{episode_id}/fusion")
def merge_voices(episode_id: int, producer: ProducerDep, archive: ArchiveDep, label: Annotated[str, Form()] = "",
                 into: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    try:
        archive.merge_speakers(episode_id, label, into)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except ValueError as error:
        raise HTTPException(400, str(error)) from error
    return _back(episode_id, "#locuteurs")


@router.post("/episodes/{episode_id}/chapitres/{number}")
def rename_chapter(episode_id: int, number: int, producer: ProducerDep, archive: ArchiveDep,
                   title: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    _edit_chapters(archive, episode_id, lambda episode: chapter_edits.rename(episode, number, title))
    return _back(episode_id, "#chapitres")


@router.post("/episodes/{episode_id}/chapitres/{number}/fusion")
def merge_chapter(episode_id: int, number: int, producer: ProducerDep, archive: ArchiveDep,
                  csrf: Annotated[str, Form()] = ""):
    """Chapter ``number`` absorbs the next one (a boundary the machine put in the wrong place)."""
    check_csrf(producer, csrf)
    _edit_chapters(archive, episode_id, lambda episode: chapter_edits.merge(episode, number))
    return _back(episode_id, "#chapitres")


@router.post("/episodes/{episode_id}/coupure")
def split_chapter(episode_id: int, producer: ProducerDep, archive: ArchiveDep,
                  moment: Annotated[float, Form()] = 0.0, csrf: Annotated[str, Form()] = ""):
    """A new chapter starts at the passage nearest to ``moment`` (seconds)."""
    check_csrf(producer, csrf)
    _edit_chapters(archive, episode_id, lambda episode: chapter_edits.split(episode, moment))
    return _back(episode_id, "#chapitres")


def _edit_chapters(archive: Archive, episode_id: int, edit) -> None:
    try:
        archive.edit_chapters(episode_id, edit)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except (ChapterError, ValueError) as error:
        raise HTTPException(400, str(error)) from error


@router.post("/episodes/{episode_id}/extrait")
def pick_soundbite(episode_id: int, producer: ProducerDep, archive: ArchiveDep,
                   start: Annotated[float, Form()] = 0.0, duration: Annotated[float, Form()] = 0.0,
                   csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    _change(archive, episode_id, EpisodeChanges(soundbite=(start, duration)))
    return _back(episode_id, "#extrait")


@router.post("/episodes/{episode_id}/publication")
def publication(episode_id: int, producer: ProducerDep, archive: ArchiveDep, action: Annotated[str, Form()] = "",
                date: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    """Publish now, schedule for a date, or take back to draft."""
    check_csrf(producer, csrf)
    if action == "publier":
        with archive.db.session() as session:
            episode = session.get(Episode, episode_id)
            if episode is None:
                raise HTTPException(404, "Épisode introuvable.")
            # Live at once: an episode dated today before its 08:00 release goes out dated yesterday.
            live_date = latest_live_date()
            changes = EpisodeChanges(status="published", date=min(episode.date, live_date))
    elif action == "programmer":
        try:
            when = dt.date.fromisoformat(date)
        except ValueError as error:
            raise HTTPException(400, "Date invalide (format attendu : AAAA-MM-JJ).") from error
        if when <= latest_live_date():
            raise HTTPException(400, "Une date de programmation doit être à venir.")
        changes = EpisodeChanges(status="published", date=when)
    elif action == "depublier":
        changes = EpisodeChanges(status="draft")
    else:
        raise HTTPException(400, "Action inconnue.")
    _change(archive, episode_id, changes)
    return _back(episode_id, "#publication")


def _change(archive: Archive, episode_id: int, changes: EpisodeChanges) -> None:
    try:
        archive.update_episode(episode_id, changes)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except ValueError as error:
        raise HTTPException(400, str(error)) from error


def login_redirect(request: Request) -> Response:
    """Where a request without a session goes: the login form (pages) or 401 (API)."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "Connexion requise."}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/studio/connexion?suite={quote(target)}", status_code=303)


# -- sending an episode ---------------------------------------------------------------------


@router.get("/envoi", name="studio_upload")
def upload_form(request: Request, producer: ProducerDep):
    return render(request, "studio/upload.html", {"csrf": producer.csrf, "error": None, "fields": {},
                                                  "limit_mb": request.app.state.settings.max_upload_bytes // 1_000_000})


@router.post("/envoi")
async def upload(request: Request, producer: ProducerDep, archive: ArchiveDep):
    """Receive the audio (streamed to disk, bounded), check it decodes, queue it; the list page follows it."""
    settings = request.app.state.settings
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + 1_000_000:
        raise upload_module.too_large(settings)  # refused before a byte is stored
    form = await request.form(max_files=1, max_fields=20)
    try:
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        check_csrf(producer, fields.get("csrf"))
        try:
            meta = upload_module.episode_meta(fields)
            received = await run_in_threadpool(upload_module.receive, settings, form.get("audio"))
        except upload_module.UploadRefused as error:
            return render(request, "studio/upload.html", {"csrf": producer.csrf, "error": str(error),
                                                          "fields": fields, "limit_mb": settings.max_upload_bytes
                                                          // 1_000_000}, 400)
    finally:
        await form.close()
    try:
        await run_in_threadpool(enqueue_ingest, archive, received.path, meta, filename=received.filename, move=True)
    except (AudioError, JobError) as error:
        raise HTTPException(503 if isinstance(error, JobError) else 400, str(error)) from error
    finally:
        upload_module.discard(received)
    return RedirectResponse("/studio", status_code=303)


@router.post("/travaux/{job_id}/relancer")
def retry_job(job_id: int, producer: ProducerDep, archive: ArchiveDep, csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    try:
        retry(archive, job_id)
    except JobError as error:
        raise HTTPException(409, str(error)) from error
    return RedirectResponse("/studio", status_code=303)
