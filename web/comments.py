"""Listeners' comments: the public form, the author's private link, the studio's moderation page.

The public form has no session to carry a CSRF token, so it carries a signed form token
instead (itsdangerous, salt "parole-comment", valid 2 hours, bound to the episode): a
post without one that this site signed is refused (403). A hidden "honeypot" field that
people leave empty catches simple bots: when it is filled nothing is stored and the
answer is 400 with a French message (a person who filled it by mistake learns why).

Rate limits live in this process's memory (``RateLimiter``): enough for one ``parole
serve`` process; several processes each count on their own, and a restart forgets.
Clients are told apart by ``request.client.host`` (behind a reverse proxy, run uvicorn
with its proxy headers on so that it is the listener's address), kept only as a keyed hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from archive import comments
from archive.catalogue import episode_by_slug, publication_time
from archive.comments import CommentNotFound, CommentRefused, EditWindowClosed
from archive.models import Comment, Episode
from archive.settings import Settings
from archive.store import Archive
from web.auth import check_csrf, secret_key
from web.deps import render
from web.studio import ArchiveDep, ProducerDep
from web.templating import french_date

router = APIRouter(default_response_class=HTMLResponse)

FORM_SALT = "parole-comment"
FORM_TOKEN_SECONDS = 2 * 3600
PER_CLIENT = 3  # comments per client and per episode…
CLIENT_WINDOW = 600.0  # …in 10 minutes
GLOBAL_PER_MINUTE = 30  # for the whole site: a flood from many addresses still stops
PARIS = ZoneInfo("Europe/Paris")
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
STUDIO_DONE = {"publie": "Commentaire publié : il paraît maintenant sous l'épisode.",
               "refuse": "Commentaire refusé : il a été supprimé."}
FORM_REFUSED = "Formulaire expiré ou invalide : rechargez la page de l'épisode et réessayez."


# -- rate limit ------------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """Sliding windows in memory: ``take`` says 0 and counts the comment, or how many seconds to wait."""

    per_client: int = PER_CLIENT
    client_window: float = CLIENT_WINDOW
    global_per_minute: int = GLOBAL_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            self._forget(now)
            mine = self._clients.setdefault(key, deque())
            waits = [0.0]
            if len(mine) >= self.per_client:
                waits.append(mine[0] + self.client_window - now)
            if len(self._all) >= self.global_per_minute:
                waits.append(self._all[0] + 60.0 - now)
            if max(waits) > 0:
                return max(waits)
            mine.append(now)
            self._all.append(now)
            return 0.0

    def _forget(self, now: float) -> None:
        """Drop times outside the windows, and clients with none left, so memory stays small."""
        while self._all and self._all[0] <= now - 60.0:
            self._all.popleft()
        for key in list(self._clients):
            times = self._clients[key]
            while times and times[0] <= now - self.client_window:
                times.popleft()
            if not times:
                del self._clients[key]


# -- what the application keeps for comments -------------------------------------------------


@dataclass
class CommentGuard:
    """The form signer, the key for client hashes and the limiter, made once per application."""

    signer: URLSafeTimedSerializer
    key: bytes
    limiter: RateLimiter

    def client_hash(self, request: Request) -> str:
        address = request.client.host if request.client else ""
        return hmac.new(self.key, address.encode(), hashlib.sha256).hexdigest()

    def check_form_token(self, token: str, episode_id: int) -> None:
        try:
            signed_for = self.signer.loads(token, max_age=FORM_TOKEN_SECONDS)
        except SignatureExpired as error:
            raise HTTPException(403, "Le formulaire a expiré (il reste valable deux heures) : rechargez la page "
                                     "de l'épisode, votre texte sera à recopier.") from error
        except BadSignature as error:
            raise HTTPException(403, FORM_REFUSED) from error
        if signed_for != episode_id:
            raise HTTPException(403, FORM_REFUSED)


_guard_lock = threading.Lock()


def _signer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(settings), salt=FORM_SALT)


def _guard(request: Request) -> CommentGuard:
    state = request.app.state
    with _guard_lock:
        if getattr(state, "comment_guard", None) is None:
            settings = state.settings
            state.comment_guard = CommentGuard(_signer(settings), secret_key(settings).encode(), RateLimiter())
        return state.comment_guard


def form_token(settings: Settings, episode_id: int) -> str:
    """The token the public form carries for this episode (also how tests post like a browser)."""
    return _signer(settings).dumps(episode_id)


def _is_live(episode: Episode) -> bool:
    return episode.status == "published" and publication_time(episode) <= dt.datetime.now(dt.UTC)


def comment_context(request: Request, session: Session, episode: Episode) -> dict:
    """What the episode page merges into its context for ``_comments.html``.

    An episode not yet live gets no token: the partial then says comments open at publication.
    """
    token = _guard(request).signer.dumps(episode.id) if _is_live(episode) else ""
    return {"comments": comments.approved_for_episode(session, episode.id), "comment_token": token}


def when(value: dt.datetime) -> str:
    """« 12 mars 2026 à 14 h 05 », Paris time: what the studio and the author read."""
    local = comments.aware(value).astimezone(PARIS)
    return f"{french_date(local.date())} à {local.hour} h {local.minute:02d}"


# -- the public form -------------------------------------------------------------------------


@router.post("/episodes/{slug}/commentaires", name="post_comment")
def post_comment(request: Request, slug: str, archive: ArchiveDep, name: Annotated[str, Form()] = "",
                 text: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "",
                 website: Annotated[str, Form()] = ""):
    """Check the token, the honeypot, the fields and the rate, then store the comment hidden."""
    guard = _guard(request)
    with archive.db.sessions.begin() as session:
        episode = episode_by_slug(session, slug, with_transcript=False)
        if episode is None or not _is_live(episode):
            raise HTTPException(404, "Épisode introuvable.")
        guard.check_form_token(token, episode.id)
        try:
            if website.strip():
                raise CommentRefused("Le champ « Laissez ce champ vide » doit rester vide : le commentaire "
                                     "n'a pas été envoyé. Videz-le puis renvoyez le formulaire.")
            comments.clean(name, text)
        except CommentRefused as error:
            return _form_again(request, guard, episode, name, text, error)
        client = guard.client_hash(request)
        wait = guard.limiter.take(f"{client}:{episode.id}")
        if wait:
            return _too_many(request, wait)
        new = comments.add(session, episode.id, name, text, client)
    return RedirectResponse(f"/commentaires/{new.id}/{new.token}/envoye", status_code=303)


def _form_again(request: Request, guard: CommentGuard, episode: Episode, name: str, text: str,
                error: CommentRefused) -> Response:
    """The form once more, with the French reason and what the listener typed (never lost)."""
    context = {"state": "refused", "episode": episode, "comments": None,
               "comment_token": guard.signer.dumps(episode.id), "comment_error": str(error),
               "comment_error_field": error.field, "comment_values": {"name": name[:200], "text": text[:5000]}}
    return render(request, "comment_sent.html", context, 400)


def _too_many(request: Request, wait: float) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    message = (f"Vous avez envoyé beaucoup de commentaires en peu de temps : réessayez dans {minutes} minute"
               f"{'s' if minutes > 1 else ''}.")
    response = render(request, "error.html", {"title": "Trop de commentaires", "message": message}, 429)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


# -- the author's private link ---------------------------------------------------------------


def _comment_id(value: str) -> int:
    """Anything but a plain number is the same 404 as a wrong token."""
    if not value.isdigit() or len(value) > 12:
        raise HTTPException(404)
    return int(value)


def _link_failed(request: Request, error: LookupError) -> Response:
    if isinstance(error, EditWindowClosed):
        response = render(request, "error.html", {"title": "Lien expiré", "message": str(error)}, 410)
        response.headers.update(PRIVATE_HEADERS)
        return response
    raise HTTPException(404) from error


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _edit_page(request: Request, comment: Comment, token: str, status_code: int = 200, error: str = "",
               error_field: str = "", values: dict | None = None, saved: bool = False) -> Response:
    context = {"comment": comment, "episode": comment.episode, "token": token, "error": error,
               "error_field": error_field, "saved": saved, "deadline": when(comments.edit_deadline(comment)),
               "values": values or {"name": comment.name, "text": comment.text}}
    return _private(render(request, "comment_edit.html", context, status_code))


@router.get("/commentaires/{comment_id}/{token}/envoye", name="comment_sent")
def comment_sent(request: Request, comment_id: str, token: str, archive: ArchiveDep):
    """The thank-you page, where the author finds their private link."""
    with archive.db.session() as session:
        try:
            comment = comments.with_token(session, _comment_id(comment_id), token)
        except (CommentNotFound, EditWindowClosed) as error:
            return _link_failed(request, error)
        context = {"state": "sent", "episode": comment.episode, "link": f"/commentaires/{comment.id}/{token}",
                   "deadline": when(comments.edit_deadline(comment))}
        return _private(render(request, "comment_sent.html", context))


@router.get("/commentaires/{comment_id}/{token}", name="comment_edit")
def edit_form(request: Request, comment_id: str, token: str, archive: ArchiveDep, enregistre: str = ""):
    with archive.db.session() as session:
        try:
            comment = comments.with_token(session, _comment_id(comment_id), token)
        except (CommentNotFound, EditWindowClosed) as error:
            return _link_failed(request, error)
        return _edit_page(request, comment, token, saved=enregistre == "1")


@router.post("/commentaires/{comment_id}/{token}")
def edit_or_delete(request: Request, comment_id: str, token: str, archive: ArchiveDep,
                   action: Annotated[str, Form()] = "enregistrer", name: Annotated[str, Form()] = "",
                   text: Annotated[str, Form()] = ""):
    """Save the author's change (back to moderation) or delete the comment."""
    number = _comment_id(comment_id)
    if action not in ("enregistrer", "supprimer"):
        raise HTTPException(400, "Action inconnue.")
    try:
        with archive.db.sessions.begin() as session:
            if action == "supprimer":
                deleted = comments.delete_with_token(session, number, token)
                return _private(render(request, "comment_sent.html", {"state": "deleted",
                                                                      "episode": deleted.episode}))
            comments.edit_with_token(session, number, token, name, text)
    except (CommentNotFound, EditWindowClosed) as error:
        return _link_failed(request, error)
    except CommentRefused as error:
        with archive.db.session() as session:
            comment = comments.with_token(session, number, token)
            return _edit_page(request, comment, token, 400, str(error), error.field,
                              {"name": name[:200], "text": text[:5000]})
    return RedirectResponse(f"/commentaires/{number}/{token}?enregistre=1", status_code=303)


# -- moderation in the studio ----------------------------------------------------------------


@router.get("/studio/commentaires", name="studio_comments")
def moderation(request: Request, producer: ProducerDep, archive: ArchiveDep, fait: str = ""):
    with archive.db.session() as session:
        waiting = comments.pending(session)
        return render(request, "studio/comments.html", {"comments": waiting, "csrf": producer.csrf, "when": when,
                                                        "done": STUDIO_DONE.get(fait, "")})


@router.post("/studio/commentaires/{comment_id}/publier")
def publish(comment_id: int, producer: ProducerDep, archive: ArchiveDep, csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    _moderate(archive, lambda session: comments.approve(session, comment_id))
    return RedirectResponse("/studio/commentaires?fait=publie", status_code=303)


@router.post("/studio/commentaires/{comment_id}/refuser")
def refuse(comment_id: int, producer: ProducerDep, archive: ArchiveDep, csrf: Annotated[str, Form()] = ""):
    check_csrf(producer, csrf)
    _moderate(archive, lambda session: comments.reject(session, comment_id))
    return RedirectResponse("/studio/commentaires?fait=refuse", status_code=303)


def _moderate(archive: Archive, change: Callable[[Session], object]) -> None:
    try:
        with archive.db.sessions.begin() as session:
            change(session)
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
