"""Receiving an episode from the studio: streamed to disk, bounded, checked by content, then queued.

The multipart parser spools the file to a temporary file (never whole in memory); it is
then copied in blocks into the data folder while counting bytes, so an upload larger
than ``max_upload_bytes`` is refused (413) even when its Content-Length lied, and
nothing of it is left on disk. Only a file that decodes as audio becomes a job.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException
from starlette.datastructures import UploadFile

from archive.records import EpisodeMeta, Guest
from archive.settings import Settings
from ingest.audio import MIME_TYPES, SUPPORTED, AudioError, probe_audio

BLOCK = 1 << 20


class UploadRefused(ValueError):
    """A French message to show on the upload form."""


@dataclass(frozen=True)
class ReceivedAudio:
    path: Path
    filename: str


def too_large(settings: Settings) -> HTTPException:
    limit = settings.max_upload_bytes / 1e6
    return HTTPException(413, f"Fichier trop volumineux : {limit:,.0f} Mo au plus.".replace(",", " "))


def receive(settings: Settings, upload: UploadFile | None) -> ReceivedAudio:
    """The uploaded audio copied into ``uploads/incoming`` and checked; raises UploadRefused or 413."""
    if upload is None or not getattr(upload, "filename", None):
        raise UploadRefused("Choisissez le fichier audio de l'épisode.")
    extension = Path(upload.filename).suffix.lower().lstrip(".")
    if extension not in MIME_TYPES:
        raise UploadRefused(f"Format non pris en charge : « .{extension} ». Formats acceptés : {SUPPORTED}.")
    folder = settings.data_dir / "uploads" / "incoming" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / f"episode.{extension}"
    try:
        size = 0
        with target.open("wb") as out:
            while block := upload.file.read(BLOCK):
                size += len(block)
                if size > settings.max_upload_bytes:
                    raise too_large(settings)
                out.write(block)
        probe_audio(target)
    except AudioError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadRefused(str(error).replace(target.name, upload.filename[:200])) from error
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ReceivedAudio(target, upload.filename[:200])


def discard(received: ReceivedAudio) -> None:
    shutil.rmtree(received.path.parent, ignore_errors=True)


def episode_meta(fields: dict[str, str]) -> EpisodeMeta:
    """The form's fields as an episode card (always a draft: it is published after review)."""
    title = " ".join(fields.get("title", "").split())[:300]
    if not title:
        raise UploadRefused("Le titre ne peut pas être vide.")
    try:
        date = dt.date.fromisoformat(fields.get("date") or dt.date.today().isoformat())
    except ValueError as error:
        raise UploadRefused("Date invalide (format attendu : AAAA-MM-JJ).") from error
    numbers = {}
    for name, label in (("number", "Le numéro d'épisode"), ("season", "Le numéro de saison")):
        text = (fields.get(name) or "").strip()
        if text and (not text.isdigit() or not 0 < int(text) < 100_000):
            raise UploadRefused(f"{label} doit être un entier positif.")
        numbers[name] = int(text) if text else None
    guests = tuple(Guest.parse(line) for line in (fields.get("guests") or "").splitlines() if line.strip())
    if any(not guest.name for guest in guests):
        raise UploadRefused("Chaque invité a un nom : une ligne « Nom|rôle|organisation » par invité.")
    return EpisodeMeta(title, (fields.get("description") or "").strip()[:5000], date, guests[:20], draft=True,
                       episode_number=numbers["number"], season=numbers["season"])
