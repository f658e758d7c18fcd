"""The web application: public pages, JSON API, feed and transcript files."""

from __future__ import annotations

from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive.settings import Settings
from archive.store import Archive
from web import api, comments, extracts, feed_routes, pages, studio, studio_glossary, studio_import
from web.auth import LoginRequired, Sessions
from web.feed_cache import FeedCache
from web.security import BodyLimit, Limits, SecurityMiddleware, docs_policy
from web.templating import STATIC_DIR, make_templates
from web.upload import too_large

ERROR_TITLES = {404: "Page introuvable", 405: "Méthode non autorisée", 400: "Requête invalide",
                413: "Envoi trop volumineux"}
ENGLISH_PHRASES = {status.value: status.phrase for status in HTTPStatus}
API_DOCS = "/api/docs"
OPENAPI = "/api/openapi.json"
# Room for the form fields and multipart boundaries around the largest audio file the studio takes.
UPLOAD_MARGIN = 1_000_000


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
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI,
    )
    app.state.settings = settings
    app.state.archive = archive
    app.state.templates = make_templates(settings)
    app.state.feed_cache = FeedCache(settings)
    app.state.sessions = Sessions(settings)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    # The OpenAPI schema describes the JSON API only: pages, feed and studio forms are not an API.
    app.include_router(pages.router, include_in_schema=False)
    app.include_router(feed_routes.router, include_in_schema=False)
    app.include_router(extracts.router, include_in_schema=False)
    app.include_router(studio.router, include_in_schema=False)
    app.include_router(studio_import.router, include_in_schema=False)
    app.include_router(studio_glossary.router, include_in_schema=False)
    studio_glossary.add_template_helpers(app.state.templates)
    app.include_router(comments.router, include_in_schema=False)
    app.include_router(api.router, prefix="/api")

    docs = api_docs_page(app.title)

    @app.get(API_DOCS, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(docs)

    limits = Limits(by_path={"/studio/envoi": BodyLimit(settings.max_upload_bytes + UPLOAD_MARGIN,
                                                         too_large(settings).detail)})

    def error_response(request: Request, status: int, message: str | None, headers=None) -> Response:
        """The French error: JSON ``detail`` under /api/, the error page elsewhere."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message or ERROR_TITLES.get(status, "Erreur")}, status_code=status,
                                headers=headers)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"title": ERROR_TITLES.get(status, "Erreur"), "message": message},
            status_code=status, headers=headers)

    app.add_middleware(SecurityMiddleware, limits=limits, refuse=error_response, policies={API_DOCS: docs_policy(docs)})

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired):
        return studio.login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        message = error.detail if isinstance(error.detail, str) and error.status_code != 404 else None
        if message == ENGLISH_PHRASES.get(error.status_code):  # Starlette's default detail: English, says nothing
            message = None
        if error.status_code == 404:
            message = "Cette page n'existe pas ou plus."
        return error_response(request, error.status_code, message, getattr(error, "headers", None))

    return app


def api_docs_page(title: str) -> str:
    """Swagger UI (from its CDN), with a French note that stays when the CDN cannot be reached."""
    html = get_swagger_ui_html(openapi_url=OPENAPI, title=f"{title} — documentation").body.decode()
    note = ('<p lang="fr">Chargement de la documentation interactive (Swagger UI, servie par cdn.jsdelivr.net)… '
            f'Sans accès à ce site, la description de l\'API reste lisible ici : <a href="{OPENAPI}">{OPENAPI}</a>.'
            '</p>')
    html = html.replace("<html>", '<html lang="fr">', 1)
    return html.replace('<div id="swagger-ui">', f'<div id="swagger-ui">{note}', 1)
