"""Producer accounts: who may enter the studio, with argon2 password hashes.

Login attempts are slowed down after failures: from the third failure in a row, each
new attempt must wait twice as long as the previous one (2 s, 4 s … up to 5 minutes),
whether the password is right or not. An unknown address costs the same hashing time
as a known one, so timing does not tell which addresses exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import ApiToken, Producer

MIN_PASSWORD_LENGTH = 12
MAX_EMAIL_LENGTH = 320  # the column's length, and the longest address the standards allow
FREE_FAILURES = 2
MAX_WAIT = dt.timedelta(minutes=5)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A French message for the person creating an account or logging in."""


@dataclass(frozen=True)
class LoginResult:
    producer_id: int | None
    wait_seconds: int = 0  # > 0: too many failures, try again later


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_producer(session: Session, email: str, password: str) -> Producer:
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise AccountError(f"Adresse électronique invalide : « {email} ».")
    if len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(f"Adresse électronique trop longue : {MAX_EMAIL_LENGTH} caractères au plus.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")
    if session.scalar(select(Producer).where(Producer.email == email)) is not None:
        raise AccountError(f"Un compte existe déjà pour {email}.")
    producer = Producer(email=email, password_hash=_hasher.hash(password))
    session.add(producer)
    session.flush()
    return producer


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _wait_after(producer: Producer, now: dt.datetime) -> dt.timedelta:
    """How long this account must still wait before the next attempt counts."""
    if producer.failed_logins <= FREE_FAILURES or producer.last_failed_at is None:
        return dt.timedelta(0)
    last = producer.last_failed_at
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    delay = min(MAX_WAIT, dt.timedelta(seconds=2 ** (producer.failed_logins - FREE_FAILURES)))
    return max(dt.timedelta(0), last + delay - now)


def check_login(session: Session, email: str, password: str, now: dt.datetime | None = None) -> LoginResult:
    """The producer's id when the password is right and the account is not in a waiting period."""
    now = now or dt.datetime.now(dt.UTC)
    producer = session.scalar(select(Producer).where(Producer.email == normalise_email(email)))
    if producer is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None)
    wait = _wait_after(producer, now)
    if wait > dt.timedelta(0):
        return LoginResult(None, max(1, int(wait.total_seconds() + 0.999)))
    if not _verify(producer.password_hash, password):
        producer.failed_logins += 1
        producer.last_failed_at = now
        return LoginResult(None)
    producer.failed_logins = 0
    producer.last_failed_at = None
    if _hasher.check_needs_rehash(producer.password_hash):
        producer.password_hash = _hasher.hash(password)
    return LoginResult(producer.id)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_api_token(session: Session, producer_id: int, name: str) -> str:
    """A new token for scripts; shown once, only its hash is stored."""
    token = "prl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(producer_id=producer_id, name=name.strip()[:120] or "jeton",
                         token_sha256=hashlib.sha256(token.encode()).hexdigest()))
    return token


def producer_for_token(session: Session, token: str) -> int | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return session.scalar(select(ApiToken.producer_id).where(ApiToken.token_sha256 == digest))
