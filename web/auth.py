"""Producer sessions and CSRF protection for the studio and the write API.

- The session is a signed cookie (itsdangerous) holding the producer's id and the CSRF
  token of the session; it is HttpOnly, SameSite=Lax, Secure when the site is served over
  https, and expires after ``SESSION_HOURS``.
- Before login, the form's CSRF token is a signed cookie of its own, compared with the
  field the form sends back.
- Scripts may instead send ``Authorization: Bearer prl_…`` (a token a producer created);
  a token needs no CSRF field, as no browser sends it by itself.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from archive.producers import producer_for_token
from archive.settings import Settings

SESSION_COOKIE = "parole_session"
LOGIN_CSRF_COOKIE = "parole_csrf"
SESSION_HOURS = 12


class LoginRequired(Exception):
    """No valid session: a page redirects to the login form, the API answers 401."""


@dataclass(frozen=True)
class Producer:
    id: int
    csrf: str  # empty for a token: scripts have no forms


def secret_key(settings: Settings) -> str:
    """PAROLE_SECRET_KEY, or a random key kept in the data folder (readable by its owner only)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Sessions:
    def __init__(self, settings: Settings) -> None:
        key = secret_key(settings)
        self.sessions = URLSafeTimedSerializer(key, salt="parole-session")
        self.login_tokens = URLSafeTimedSerializer(key, salt="parole-login-csrf")
        self.secure = settings.public_base_url.startswith("https://")

    # -- after login --------------------------------------------------------------------

    def open(self, response: Response, producer_id: int) -> None:
        value = self.sessions.dumps({"p": producer_id, "c": secrets.token_urlsafe(24)})
        response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                            secure=self.secure, path="/")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/studio")

    def close(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def producer(self, request: Request) -> Producer | None:
        """The producer behind the request's session cookie or bearer token, if any."""
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            with request.app.state.archive.db.session() as session:
                producer_id = producer_for_token(session, authorization[7:].strip())
            return Producer(producer_id, "") if producer_id else None
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            data = self.sessions.loads(value, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        return Producer(int(data["p"]), str(data["c"]))

    # -- before login -------------------------------------------------------------------

    def login_token(self, request: Request) -> tuple[str, bool]:
        """The login form's CSRF token, and whether it is new (then ``remember_login_token`` sets its cookie)."""
        existing = self._login_token(request)
        return (existing, False) if existing else (secrets.token_urlsafe(24), True)

    def remember_login_token(self, response: Response, token: str) -> None:
        response.set_cookie(LOGIN_CSRF_COOKIE, self.login_tokens.dumps(token), max_age=3600, httponly=True,
                            samesite="lax", secure=self.secure, path="/studio")

    def _login_token(self, request: Request) -> str | None:
        value = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not value:
            return None
        try:
            return str(self.login_tokens.loads(value, max_age=3600))
        except BadSignature:
            return None

    def check_login_token(self, request: Request, sent: str) -> None:
        expected = self._login_token(request)
        if not expected or not hmac.compare_digest(expected, sent or ""):
            raise HTTPException(403, "Formulaire expiré ou invalide : rechargez la page et réessayez.")


def require_producer(request: Request) -> Producer:
    """Dependency for every studio page and write: the producer, or LoginRequired."""
    producer = request.app.state.sessions.producer(request)
    if producer is None:
        raise LoginRequired()
    return producer


def check_csrf(producer: Producer, sent: str | None) -> None:
    """A browser form must send back its session's token; a bearer token needs none."""
    if producer.csrf and not hmac.compare_digest(producer.csrf, sent or ""):
        raise HTTPException(403, "Formulaire expiré ou invalide : rechargez la page et réessayez.")
