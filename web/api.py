"""The JSON API under ``/api`` (documented at ``/api/docs``).

The OpenAPI schema is a contract that clients check answers
against, so every answer the routes can give is documented: the 200 body, and for every
refusal a 4xx whose body is ``{"detail": "<one French sentence>"}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session

from archive.catalogue import hidden_episode_ids, live_episodes
from archive.models import Episode
from archive.people import speaker_names
from archive.query import MAX_QUERY_LENGTH
from archive.search import SearchRequest, search
from archive.store import Archive
from web.deps import get_archive, get_session, require_episode

MAX_PAGE = 99_999

# What each query parameter accepts, said to whoever sent something else.
PARAMETER_RULES = {
    "q": f"« q » : {MAX_QUERY_LENGTH} caractères au plus",
    "personne": "« personne » : l'identifiant d'une personne (lettres minuscules, chiffres et tirets, "
                "120 caractères au plus)",
    "organisation": "« organisation » : 300 caractères au plus",
    "theme": "« theme » : 200 caractères au plus",
    "annee": "« annee » : une année en quatre chiffres, par exemple 2024",
    "tri": "« tri » : « pertinence » ou « date »",
    "page": f"« page » : un nombre entier de 1 à {MAX_PAGE:,}".replace(",", " "),
}


class ErrorOut(BaseModel):
    """Why a request was refused, in French."""

    detail: str


def validation_message(error: RequestValidationError) -> str:
    """One French sentence naming the parameters that were refused and what they accept."""
    names = []
    for problem in error.errors():
        location = problem.get("loc", ())
        name = str(location[-1]) if location else ""
        if name not in names:
            names.append(name)
    rules = [PARAMETER_RULES[name] for name in names if name in PARAMETER_RULES]
    if not rules:
        return "Requête invalide."
    return "Paramètre invalide — " + " ; ".join(rules) + "."


class FrenchErrorsRoute(APIRoute):
    """A route whose refused parameters get the API's usual answer (400, one French sentence)
    instead of FastAPI's 422 with English messages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return JSONResponse({"detail": validation_message(error)}, status_code=400)

        return handle


router = APIRouter(tags=["archive"], route_class=FrenchErrorsRoute)
SessionDep = Annotated[Session, Depends(get_session)]

# Every client error of the API has the same body; FastAPI's own 422 never happens here.
CLIENT_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorOut, "description": "Requête refusée ; le motif, en français, est dans « detail »"},
}


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


@router.get("/episodes", response_model=list[EpisodeSummary], summary="Épisodes, du plus récent au plus ancien",
            responses=CLIENT_ERRORS)
def api_episodes(request: Request, session: SessionDep):
    return [_summary(request, episode) for episode in live_episodes(session, dt.datetime.now(dt.UTC))]


@router.get("/episodes/{slug}", response_model=EpisodeDetail, summary="Un épisode et sa transcription",
            responses={404: {"model": ErrorOut, "description": "Épisode introuvable"}, **CLIENT_ERRORS})
def api_episode(request: Request, slug: str, session: SessionDep):
    episode = require_episode(session, slug)
    names = speaker_names(episode)
    transcript = [{"start": u.start, "end": u.end, "speaker": names.get(u.speaker or ""), "text": u.text}
                  for u in episode.utterances]
    chapters = [{"start": c.start, "end": c.end, "title": c.title, "keywords": c.keywords} for c in episode.chapters]
    return {**_summary(request, episode), "chapters": chapters, "transcript": transcript}


def api_search_request(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="Le texte cherché")] = "",
    personne: Annotated[str, Query(max_length=120, pattern=r"^[a-z0-9-]*$",
                                   description="Identifiant (slug) d'une personne")] = "",
    organisation: Annotated[str, Query(max_length=300)] = "",
    theme: Annotated[str, Query(max_length=200, description="Titre de chapitre")] = "",
    annee: Annotated[str, Query(pattern=r"^([0-9]{4})?$", description="Année de diffusion")] = "",
    tri: Literal["pertinence", "date"] = "pertinence",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> SearchRequest:
    """The API's search parameters, checked: a client that sends a wrong one is told which, rather than
    silently getting results for something else. Drafts and episodes not yet released stay hidden."""
    with request.app.state.archive.db.session() as session:
        hidden = hidden_episode_ids(session, dt.datetime.now(dt.UTC))
    return SearchRequest(text=q, personne=personne, organisation=organisation, theme=theme, annee=annee, sort=tri,
                         page=page, hidden=hidden)


@router.get("/search", response_model=SearchOut, summary="Rechercher dans les transcriptions",
            description="Mots (tous requis), « phrase exacte », -exclusion, OR ; filtres personne (slug), "
                        "organisation, theme (titre de chapitre), annee ; tri=pertinence|date ; page.",
            responses={400: {"model": ErrorOut, "description": "Paramètre invalide"}, **CLIENT_ERRORS})
def api_search(request: Request, archive: Annotated[Archive, Depends(get_archive)],
               wanted: Annotated[SearchRequest, Depends(api_search_request)]):
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
