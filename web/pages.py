"""Public HTML pages (French URLs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session

from archive.catalogue import list_episodes, list_people, person_by_slug, person_passages
from archive.media import media_path
from archive.search import search
from archive.settings import Settings
from archive.store import Archive
from web.deps import get_archive, get_session, get_settings, render, require_episode
from web.views import transcript_blocks

router = APIRouter(default_response_class=HTMLResponse)
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/", name="home")
def home(request: Request, session: SessionDep):
    return render(request, "index.html", {"episodes": list_episodes(session)})


@router.get("/recherche", name="search_page")
def search_page(request: Request, archive: Annotated[Archive, Depends(get_archive)], session: SessionDep,
                q: str = "", personne: str = ""):
    people = [summary.person for summary in list_people(session) if summary.person.voices]
    person = next((p for p in people if p.slug == personne), None)
    results = search(archive.index, q, person=person.slug if person else None) if q.strip() else None
    return render(request, "search.html", {"q": q, "results": results, "people": people, "person": person})


@router.get("/episodes/{slug}", name="episode_page")
def episode_page(request: Request, slug: str, session: SessionDep):
    episode = require_episode(session, slug)
    return render(request, "episode.html", {"episode": episode, "blocks": transcript_blocks(episode)})


@router.get("/personnes", name="people_page")
def people_page(request: Request, session: SessionDep):
    return render(request, "people.html", {"people": list_people(session)})


@router.get("/personnes/{slug}", name="person_page")
def person_page(request: Request, slug: str, session: SessionDep):
    person = person_by_slug(session, slug)
    if person is None:
        raise HTTPException(404, "Personne introuvable.")
    episodes = sorted({link.episode for link in person.appearances}, key=lambda e: (e.date, e.id), reverse=True)
    return render(request, "person.html", {"person": person, "episodes": episodes,
                                           "passages": person_passages(session, person)})


@router.api_route("/episodes/{slug}/audio.{extension}", methods=["GET", "HEAD"], name="episode_audio",
                  response_class=FileResponse)
def episode_audio(slug: str, extension: str, session: SessionDep,
                  settings: Annotated[Settings, Depends(get_settings)]):
    """The episode's audio, with HTTP Range support so players can seek."""
    episode = require_episode(session, slug, with_transcript=False)
    if extension != episode.audio_ext:
        raise HTTPException(404)
    path = media_path(settings.media_dir, episode.audio_sha256, episode.audio_ext)
    if not path.exists():
        raise HTTPException(404, "Fichier audio manquant.")
    return FileResponse(path, media_type=episode.audio_mime, filename=f"{episode.slug}.{episode.audio_ext}",
                        content_disposition_type="inline")
