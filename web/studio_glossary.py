"""The studio's glossary page: the words the recogniser should spell right, and those producers' corrections teach.

``/studio/glossaire`` shows the programme's built-in vocabulary (read only), the producers' terms in a
textarea, and the names, places and acronyms producers typed into transcripts, each one click away
from the glossary. The file itself is ``ingest.glossary``'s business; this module only reads the
corrected passages from the archive and turns forms into calls.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from archive.models import Utterance
from archive.settings import Settings
from archive.store import Archive
from ingest import glossary
from web.auth import check_csrf
from web.deps import render
from web.studio import ArchiveDep, ProducerDep

router = APIRouter(prefix="/studio", default_response_class=HTMLResponse)
PAGE = "/studio/glossaire"
# The corrected passages read for suggestions: the most recent ones are enough to find what is missing.
MAX_CORRECTIONS = 5_000
MAX_SUGGESTIONS = 50
DONE = {"enregistre": "Glossaire enregistré.", "deja": "Ces termes sont déjà dans le glossaire : rien à ajouter."}


def corrected_pairs(archive: Archive, limit: int = MAX_CORRECTIONS) -> list[tuple[str, str]]:
    """(machine text, corrected text) of the passages producers corrected, the most recent first."""
    with archive.db.session() as session:
        rows = session.execute(select(Utterance.original_text, Utterance.text)
                               .where(Utterance.original_text.is_not(None))
                               .order_by(Utterance.id.desc()).limit(limit)).all()
    return [(str(original), str(text)) for original, text in rows]


def _page(request: Request, settings: Settings, archive: Archive, csrf: str, *, text: str | None = None,
          error: str | None = None, status_code: int = 200):
    known = glossary.read_glossary(settings)
    producer_terms = glossary.producer_terms(settings)
    added = [term for term in request.query_params.getlist("ajout") if _in(term, producer_terms)]
    context = {
        "csrf": csrf,
        "builtin": glossary.builtin_terms(),
        "text": glossary.producer_text(settings) if text is None else text,
        "producer_count": len(producer_terms),
        "suggestions": glossary.suggestions_from_corrections(corrected_pairs(archive), known, MAX_SUGGESTIONS),
        "hotwords": glossary.hotwords_for(settings, include_builtin=False),
        "done": DONE.get(request.query_params.get("fait", ""), ""),
        "added": added,
        "error": error,
        "limits": {"terms": glossary.MAX_TERMS, "term_chars": glossary.MAX_TERM_CHARS,
                   "text_chars": glossary.MAX_TEXT_CHARS, "hotword_chars": glossary.HOTWORDS_MAX_CHARS},
    }
    return render(request, "studio/glossary.html", context, status_code)


def _in(term: str, terms: list[str]) -> bool:
    return term.casefold() in {known.casefold() for known in terms}


@router.get("/glossaire", name="studio_glossary")
def glossary_page(request: Request, producer: ProducerDep, archive: ArchiveDep):
    return _page(request, request.app.state.settings, archive, producer.csrf)


@router.post("/glossaire")
def save_glossary(request: Request, producer: ProducerDep, archive: ArchiveDep,
                  texte: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    """The textarea replaces the producers' file; a refused line comes back with the text as typed."""
    check_csrf(producer, csrf)
    settings = request.app.state.settings
    try:
        glossary.write_glossary(settings, texte)
    except ValueError as error:
        return _page(request, settings, archive, producer.csrf, text=texte[:glossary.MAX_TEXT_CHARS],
                     error=str(error), status_code=400)
    return RedirectResponse(f"{PAGE}?fait=enregistre", status_code=303)


@router.post("/glossaire/ajout")
def add_to_glossary(request: Request, producer: ProducerDep, archive: ArchiveDep,
                    terme: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies form defaults)
                    retour: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    """One click: a suggested term (or several) joins the producers' file; back to the page it came from."""
    check_csrf(producer, csrf)
    settings = request.app.state.settings
    try:
        if len(terme) > glossary.MAX_TERMS:
            raise ValueError(f"Trop de termes à la fois : {glossary.MAX_TERMS} au plus.")
        added = glossary.add_terms(settings, terme)
    except ValueError as error:
        return _page(request, settings, archive, producer.csrf, error=str(error), status_code=400)
    path, _, anchor = _local(retour).partition("#")
    query = {"ajout": added} if added else {"fait": "deja"}
    if path != PAGE and anchor.startswith("u") and anchor[1:].isdigit():
        query["passage"] = anchor[1:]  # the episode page says it in the passage the click came from
    return RedirectResponse(f"{path}?{urlencode(query, doseq=True)}" + (f"#{anchor}" if anchor else ""),
                            status_code=303)


def _local(path: str) -> str:
    """Only a studio page may follow the addition, never an address elsewhere."""
    if path.startswith("/studio") and not path.startswith("//") and path.isprintable() and "\\" not in path \
            and "?" not in path and len(path) < 300:
        return path
    return PAGE


# -- for the episode review page: suggestions next to a corrected passage ---------------------


def glossary_known(settings: Settings) -> list[str]:
    """Every term of the glossary, read once per page."""
    return glossary.read_glossary(settings)


def glossary_offer(original: str | None, text: str, known: list[str]) -> list[str]:
    """What one corrected passage suggests for the glossary (empty for a passage never corrected)."""
    if original is None:
        return []
    return glossary.suggestions_from_corrections([(original, text)], known, limit=5)


def glossary_added(request: Request, settings: Settings) -> list[str]:
    """The terms the last click added (from the address), only those really in the glossary."""
    terms = glossary.producer_terms(settings)
    return [term for term in request.query_params.getlist("ajout")[:20] if _in(term, terms)]


def add_template_helpers(templates: Jinja2Templates) -> None:
    templates.env.globals.update(glossary_known=glossary_known, glossary_offer=glossary_offer,
                                 glossary_added=glossary_added)
