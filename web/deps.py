"""What route handlers get from the application: settings, archive, templates."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from archive.catalogue import episode_by_slug
from archive.models import Episode
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


def render(request: Request, template: str, context: dict, status_code: int = 200):
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
