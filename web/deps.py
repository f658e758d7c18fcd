"""What route handlers get from the application: settings, archive, templates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from archive.catalogue import episode_by_slug, hidden_episode_ids
from archive.models import Episode
from archive.search import SearchRequest
from archive.settings import Settings
from archive.store import Archive


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_archive(request: Request) -> Archive:
    return request.app.state.archive


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.archive.db.session() as session:
        yield session


def require_episode(session: Session, slug: str, with_transcript: bool = True) -> Episode:
    episode = episode_by_slug(session, slug, with_transcript=with_transcript)
    if episode is None:
        raise HTTPException(404, "Épisode introuvable.")
    return episode


def search_request(request: Request, q: str = "", personne: str = "", organisation: str = "", theme: str = "",
                   annee: str = "", tri: str = "pertinence", page: str = "1") -> SearchRequest:
    """The public search form's fields; odd values fall back to the defaults instead of failing.

    Drafts and episodes not yet released are left out: their transcripts are not public yet.
    """
    number = int(page) if page.isdigit() and len(page) < 6 else 1
    year = annee if re.fullmatch(r"[0-9]{4}", annee) else ""  # "20245" is no year, not 2024
    with request.app.state.archive.db.session() as session:
        hidden = hidden_episode_ids(session, dt.datetime.now(dt.UTC))
    return SearchRequest(text=q, personne=personne[:120], organisation=organisation[:300], theme=theme[:200],
                         annee=year, sort="date" if tri == "date" else "pertinence", page=max(1, number),
                         hidden=hidden)


def render(request: Request, template: str, context: dict, status_code: int = 200):
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
