"""The JSON API under ``/api`` (documented at ``/api/docs``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from archive.catalogue import live_episodes
from archive.models import Episode
from archive.people import speaker_names
from archive.search import SearchRequest, search
from archive.store import Archive
from web.deps import get_archive, get_session, require_episode, search_request

router = APIRouter(tags=["archive"])
SessionDep = Annotated[Session, Depends(get_session)]


class PersonOut(BaseModel):
    name: str
    role: str
    slug: str


class EpisodeSummary(BaseModel):
    slug: str
    title: str
    description: str
    date: dt.date
    duration: float
    url: str
    audio_url: str
    guests: list[PersonOut]


class UtteranceOut(BaseModel):
    start: float
    end: float
    speaker: str | None
    text: str


class ChapterOut(BaseModel):
    start: float
    end: float
    title: str
    keywords: list[str]


class EpisodeDetail(EpisodeSummary):
    chapters: list[ChapterOut]
    transcript: list[UtteranceOut]


class PassageOut(BaseModel):
    start: float
    end: float
    speaker: str
    person_slug: str
    snippet_html: str
    url: str


class EpisodeHits(BaseModel):
    slug: str
    title: str
    date: dt.date
    url: str
    passage_count: int
    passages: list[PassageOut]


class FacetOut(BaseModel):
    value: str
    label: str
    count: int
    selected: bool


class SearchOut(BaseModel):
    query: str
    episode_count: int
    passage_count: int
    page: int
    pages: int
    suggestion: str | None
    fuzzy: bool
    facets: dict[str, list[FacetOut]]
    episodes: list[EpisodeHits]


def _summary(request: Request, episode: Episode) -> dict:
    return {
        "slug": episode.slug, "title": episode.title, "description": episode.description, "date": episode.date,
        "duration": episode.duration,
        "url": str(request.url_for("episode_page", slug=episode.slug)),
        "audio_url": str(request.url_for("episode_audio", slug=episode.slug, extension=episode.audio_ext)),
        "guests": [{"name": link.person.name, "role": link.person.role, "slug": link.person.slug}
                   for link in episode.people],
    }


@router.get("/episodes", response_model=list[EpisodeSummary], summary="Épisodes, du plus récent au plus ancien")
def api_episodes(request: Request, session: SessionDep):
    return [_summary(request, episode) for episode in live_episodes(session, dt.datetime.now(dt.UTC))]


@router.get("/episodes/{slug}", response_model=EpisodeDetail, summary="Un épisode et sa transcription",
            responses={404: {"description": "Épisode introuvable"}})
def api_episode(request: Request, slug: str, session: SessionDep):
    episode = require_episode(session, slug)
    names = speaker_names(episode)
    transcript = [{"start": u.start, "end": u.end, "speaker": names.get(u.speaker or ""), "text": u.text}
                  for u in episode.utterances]
    chapters = [{"start": c.start, "end": c.end, "title": c.title, "keywords": c.keywords} for c in episode.chapters]
    return {**_summary(request, episode), "chapters": chapters, "transcript": transcript}


@router.get("/search", response_model=SearchOut, summary="Rechercher dans les transcriptions",
            description="Mots (tous requis), « phrase exacte », -exclusion, OR ; filtres personne (slug), "
                        "organisation, theme (titre de chapitre), annee ; tri=pertinence|date ; page.")
def api_search(request: Request, archive: Annotated[Archive, Depends(get_archive)],
               wanted: Annotated[SearchRequest, Depends(search_request)]):
    q = wanted.text
    results = search(archive.index, wanted) if q.strip() else None
    episodes = []
    for group in results.episodes if results else []:
        page = str(request.url_for("episode_page", slug=group.slug))
        episodes.append({
            "slug": group.slug, "title": group.title, "date": group.date, "url": page,
            "passage_count": group.passage_count,
            "passages": [{"start": p.start, "end": p.end, "speaker": p.speaker, "person_slug": p.person_slug,
                          "snippet_html": p.snippet_html,
                          "url": f"{page}#t={p.start:g}"} for p in group.passages],
        })
    facets = {name: [vars(f) for f in values] for name, values in results.facets.items()} if results else {}
    return {"query": q, "episode_count": results.episode_count if results else 0,
            "passage_count": results.passage_count if results else 0, "page": results.page if results else 1,
            "pages": results.pages if results else 1, "suggestion": results.suggestion if results else None,
            "fuzzy": bool(results and results.fuzzy), "facets": facets, "episodes": episodes}
