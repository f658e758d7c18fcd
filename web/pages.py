"""Public HTML pages (French URLs)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session

from archive.catalogue import list_people, live_episodes, person_by_slug, person_passages
from archive.media import media_path
from archive.search import SearchRequest, search
from archive.settings import Settings
from archive.store import Archive
from web.comments import comment_context
from web.deps import get_archive, get_session, get_settings, render, require_episode, search_request
from web.timeline import draw as draw_timeline
from web.views import transcript_blocks

router = APIRouter(default_response_class=HTMLResponse)
FACET_NAMES = {"personne": "Personne", "organisation": "Organisation", "theme": "Thème", "annee": "Année"}
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/", name="home")
def home(request: Request, session: SessionDep):
    return render(request, "index.html", {"episodes": live_episodes(session, dt.datetime.now(dt.UTC))})


@router.get("/recherche", name="search_page")
def search_page(request: Request, archive: Annotated[Archive, Depends(get_archive)],
                wanted: Annotated[SearchRequest, Depends(search_request)]):
    results = search(archive.index, wanted) if wanted.text.strip() else None
    return render(request, "search.html", {"q": wanted.text, "wanted": wanted, "results": results,
                                           "facet_names": FACET_NAMES})


@router.get("/episodes/{slug}", name="episode_page")
def episode_page(request: Request, slug: str, session: SessionDep, archive: Annotated[Archive, Depends(get_archive)],
                 q: str = ""):
    episode = require_episode(session, slug)
    found = search(archive.index, SearchRequest(text=q, episode_id=episode.id, per_page=500)) if q.strip() else None
    matches = {p.utterance_doc: p.snippet_html for group in found.episodes for p in group.passages} if found else {}
    return render(request, "episode.html", {"episode": episode, "blocks": transcript_blocks(episode), "q": q,
                                            "found": found, "matches": matches, "timeline": draw_timeline(episode),
                                            **comment_context(request, session, episode)})


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


@router.api_route("/episodes/{slug}/podcast.mp3", methods=["GET", "HEAD"], name="episode_podcast_audio",
                  response_class=FileResponse)
def episode_podcast_audio(slug: str, session: SessionDep, settings: Annotated[Settings, Depends(get_settings)]):
    """The MP3 made for podcast apps (128 kb/s, even loudness, ID3 tags), with HTTP Range support."""
    episode = require_episode(session, slug, with_transcript=False)
    if not episode.podcast_sha256:
        raise HTTPException(404, "Pas encore de fichier MP3 pour cet épisode.")
    path = media_path(settings.media_dir, episode.podcast_sha256, "mp3")
    if not path.exists():
        raise HTTPException(404, "Fichier audio manquant.")
    return FileResponse(path, media_type="audio/mpeg", filename=f"{episode.slug}.mp3",
                        content_disposition_type="inline")
