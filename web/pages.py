"""Public HTML pages (French URLs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session

from archive.catalogue import list_episodes
from archive.media import media_path
from archive.search import search
from archive.settings import Settings
from archive.store import Archive
from web.deps import get_archive, get_session, get_settings, render, require_episode

router = APIRouter(default_response_class=HTMLResponse)
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/", name="home")
def home(request: Request, session: SessionDep):
    return render(request, "index.html", {"episodes": list_episodes(session)})


@router.get("/recherche", name="search_page")
def search_page(request: Request, archive: Annotated[Archive, Depends(get_archive)],
                q: str = ""):
    results = search(archive.index, q) if q.strip() else None
    return render(request, "search.html", {"q": q, "results": results})


@router.get("/episodes/{slug}", name="episode_page")
def episode_page(request: Request, slug: str, session: SessionDep):
    return render(request, "episode.html", {"episode": require_episode(session, slug)})


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
