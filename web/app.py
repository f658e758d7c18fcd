"""The web application: public pages, JSON API, feed and transcript files."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive.settings import Settings
from archive.store import Archive
from web import api, comments, extracts, feed_routes, pages, studio, studio_import
from web.auth import LoginRequired, Sessions
from web.feed_cache import FeedCache
from web.templating import STATIC_DIR, make_templates

ERROR_TITLES = {404: "Page introuvable", 405: "Méthode non autorisée", 400: "Requête invalide"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    archive = Archive(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        archive.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Parole — API",
        description="Épisodes, transcriptions et recherche de « La parole est à vous ».",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.archive = archive
    app.state.templates = make_templates(settings)
    app.state.feed_cache = FeedCache(settings)
    app.state.sessions = Sessions(settings)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(pages.router)
    app.include_router(feed_routes.router)
    app.include_router(extracts.router)
    app.include_router(studio.router)
    app.include_router(studio_import.router)
    app.include_router(comments.router)
    app.include_router(api.router, prefix="/api")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired):
        return studio.login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        message = error.detail if isinstance(error.detail, str) and error.status_code != 404 else None
        if error.status_code == 404:
            message = "Cette page n'existe pas ou plus."
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message or ERROR_TITLES.get(error.status_code, "Erreur")},
                                status_code=error.status_code, headers=getattr(error, "headers", None))
        return app.state.templates.TemplateResponse(
            request, "error.html",
            {"title": ERROR_TITLES.get(error.status_code, "Erreur"), "message": message},
            status_code=error.status_code,
        )

    return app
