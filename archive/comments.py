"""Listeners' comments: stored hidden, published by a producer, editable by their author for a day.

The author gets a private link holding a random token; the row keeps only the token's
sha256, compared in constant time. A wrong token and an unknown comment raise the same
error, so the link reveals nothing about other comments. The caller owns the session
and its transaction (``archive.db.sessions.begin()``); comments are not part of the
feed, so they leave the catalogue revision alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archive.models import Comment

NAME_MAX = 80
TEXT_MAX = 2000
EDIT_WINDOW = dt.timedelta(hours=24)


class CommentRefused(ValueError):
    """What the listener sent cannot be kept; ``field`` ("name", "text" or "") says where, for the form."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class CommentNotFound(LookupError):
    """No such comment, or not this token: the same answer for both."""

    def __init__(self) -> None:
        super().__init__("Ce commentaire n'existe pas ou ce lien n'est pas le bon.")


class EditWindowClosed(LookupError):
    """The private link worked once, but its 24 hours are over."""

    def __init__(self) -> None:
        super().__init__("Le lien de modification n'est valable que 24 heures après l'envoi du commentaire : "
                         "ce délai est passé. Écrivez à l'équipe si ce commentaire doit être changé ou retiré.")


@dataclass(frozen=True)
class NewComment:
    id: int
    token: str  # given to the author once; never stored


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """Stored moments come back aware (archive.models.UTCDateTime); one built in memory may be naive UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def edit_deadline(comment: Comment) -> dt.datetime:
    return aware(comment.created_at) + EDIT_WINDOW


def _printable(value: str) -> str:
    """Drop control characters (NUL, escapes…) but keep line breaks and tabs."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs"))


def clean(name: str, text: str) -> tuple[str, str]:
    """Trimmed, bounded name and text, or CommentRefused with a French message."""
    name = " ".join(_printable(name).split())
    text = "\n".join(line.rstrip() for line in _printable(text).strip().split("\n"))
    if not name:
        raise CommentRefused("Indiquez votre nom.", "name")
    if len(name) > NAME_MAX:
        raise CommentRefused(f"Votre nom est trop long : {NAME_MAX} caractères au plus.", "name")
    if not text:
        raise CommentRefused("Votre commentaire est vide.", "text")
    if len(text) > TEXT_MAX:
        raise CommentRefused(f"Votre commentaire est trop long : {TEXT_MAX} caractères au plus "
                             f"(il en compte {len(text)}).", "text")
    return name, text


# -- listeners -------------------------------------------------------------------------------


def add(session: Session, episode_id: int, name: str, text: str, client_hash: str) -> NewComment:
    """Store a comment, hidden until approved; the token returned is the author's only key to it."""
    name, text = clean(name, text)
    token, now = secrets.token_urlsafe(32), now_utc()
    comment = Comment(episode_id=episode_id, name=name, text=text, edit_token_sha256=token_hash(token),
                      client_hash=client_hash, approved=False, created_at=now, updated_at=now)
    session.add(comment)
    session.flush()
    return NewComment(comment.id, token)


def with_token(session: Session, comment_id: int, token: str, now: dt.datetime | None = None) -> Comment:
    """The comment this private link opens, if its token matches and its 24 hours are not over."""
    comment = session.scalar(select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.episode)))
    if comment is None or not hmac.compare_digest(comment.edit_token_sha256, token_hash(token)):
        raise CommentNotFound()
    if (now or now_utc()) >= edit_deadline(comment):
        raise EditWindowClosed()
    return comment


def edit_with_token(session: Session, comment_id: int, token: str, name: str, text: str,
                    now: dt.datetime | None = None) -> Comment:
    """The author's change; a published comment goes back to moderation, as its text is new."""
    comment = with_token(session, comment_id, token, now)
    comment.name, comment.text = clean(name, text)
    comment.updated_at = now or now_utc()
    comment.approved, comment.approved_at = False, None
    return comment


def delete_with_token(session: Session, comment_id: int, token: str, now: dt.datetime | None = None) -> Comment:
    """The author withdraws the comment; the deleted row comes back (its episode loaded) for the answer page."""
    comment = with_token(session, comment_id, token, now)
    session.delete(comment)
    return comment


def approved_for_episode(session: Session, episode_id: int) -> list[Comment]:
    """What listeners see under an episode: approved comments, oldest first."""
    query = select(Comment).where(Comment.episode_id == episode_id, Comment.approved.is_(True))
    return list(session.scalars(query.order_by(Comment.created_at, Comment.id)))


# -- producers -------------------------------------------------------------------------------


def pending(session: Session) -> list[Comment]:
    """Comments waiting for a producer, oldest first, with their episode loaded for the title."""
    query = select(Comment).where(Comment.approved.is_(False)).options(joinedload(Comment.episode))
    return list(session.scalars(query.order_by(Comment.created_at, Comment.id)))


def approve(session: Session, comment_id: int, now: dt.datetime | None = None) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise LookupError("Commentaire introuvable : il a peut-être été supprimé par son auteur.")
    comment.approved, comment.approved_at = True, now or now_utc()
    return comment


def reject(session: Session, comment_id: int) -> None:
    """A refused comment is deleted: nothing of it is kept."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise LookupError("Commentaire introuvable : il a peut-être été supprimé par son auteur.")
    session.delete(comment)
