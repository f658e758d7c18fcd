"""``/episodes/{slug}/extrait.mp3?debut=&fin=``: a passage of an episode as MP3, to quote or share it.

Extracts are cut from the stored original and cached on disk under ``DATA/cache/extraits``,
named by the audio's sha256 and the bounds. Bounds are rounded to a tenth of a second so
that players asking for 12.31 s and 12.34 s share one file. Encoding costs CPU, so at most
``ENCODES`` run at once; a request waiting for its turn waits as an async task, not in a
worker thread, so pages keep being served meanwhile.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from archive.media import media_path
from archive.settings import Settings
from archive.store import Archive
from ingest.extracts import ExtractError, cut_extract
from web.deps import require_episode

CACHE_LIMIT = 2000  # extracts kept on disk, so that asking for many passages cannot fill it
router = APIRouter()
log = logging.getLogger(__name__)

MAX_SECONDS = 120
ENCODES = 2
_ENCODE_SLOTS = anyio.CapacityLimiter(ENCODES)


@dataclass(frozen=True)
class Passage:
    """Bounds in tenths of a second: whole numbers, so equal requests give equal cache names."""

    start: int
    end: int

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / 10, self.end / 10

    @property
    def label(self) -> str:
        """``5.0-17.3``: the bounds as the download's name shows them."""
        return f"{self.start / 10:.1f}-{self.end / 10:.1f}"

    @property
    def cache_key(self) -> str:
        """``5000-17300``: the bounds in milliseconds, as the cache file's name carries them."""
        return f"{self.start * 100}-{self.end * 100}"


@dataclass(frozen=True)
class Extract:
    """What a request resolved to, worked out before any encoding so bad requests cost nothing."""

    source: Path
    cache: Path
    filename: str
    passage: Passage


def _french(seconds: float) -> str:
    return f"{seconds:.1f}".replace(".", ",")


def _tenths(value: str, name: str) -> int:
    """A bound given in seconds (``12.3`` or ``12,3``) as tenths of a second; 400 when it is not one."""
    text = value.strip().replace(",", ".")
    try:
        seconds = float(text) if len(text) <= 20 else math.nan
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise HTTPException(400, f"« {name} » doit être un nombre de secondes, par exemple {name}=12.5.")
    if seconds < 0:
        raise HTTPException(400, f"« {name} » ne peut pas être négatif.")
    return round(seconds * 10)


def parse_passage(debut: str, fin: str, duration: float) -> Passage:
    """The asked passage, checked against the episode's length; 400 with a French message otherwise."""
    start, end = _tenths(debut, "debut"), _tenths(fin, "fin")
    if end <= start:
        raise HTTPException(400, "La fin de l'extrait doit venir après son début.")
    if end - start > MAX_SECONDS * 10:
        raise HTTPException(400, f"Un extrait dure au plus {MAX_SECONDS} secondes.")
    if end > round(duration * 10):
        raise HTTPException(400, f"L'extrait dépasse la fin de l'épisode, qui dure {_french(duration)} s.")
    return Passage(start, end)


def plan_extract(archive: Archive, settings: Settings, slug: str, debut: str, fin: str) -> Extract:
    """Which file to cut, where its extract is cached, and under what name it is downloaded."""
    with archive.db.session() as session:
        episode = require_episode(session, slug, with_transcript=False)
        passage = parse_passage(debut, fin, episode.duration)
        source = media_path(settings.media_dir, episode.audio_sha256, episode.audio_ext)
        cache = settings.data_dir / "cache" / "extraits" / f"{episode.audio_sha256}-{passage.cache_key}.mp3"
        filename = f"{episode.slug}-{passage.label}.mp3"
    if not source.exists():
        raise HTTPException(404, "Fichier audio manquant.")
    return Extract(source, cache, filename, passage)


def encode_extract(extract: Extract) -> None:
    """Cut and encode, unless a request that waited ahead of this one already did."""
    if extract.cache.exists():
        return
    try:
        cut_extract(extract.source, *extract.passage.seconds, extract.cache)
    except ExtractError:
        log.exception("extract of %s failed", extract.source)
        raise HTTPException(500, "Impossible de préparer cet extrait : le fichier audio est illisible.") from None
    trim_cache(extract.cache.parent, keep=extract.cache)


def trim_cache(folder: Path, limit: int = CACHE_LIMIT, keep: Path | None = None) -> None:
    """Keep at most ``limit`` extracts (about 2 MB each): the least recently made go first."""
    files = sorted((path for path in folder.glob("*.mp3") if path != keep), key=lambda path: path.stat().st_mtime)
    for path in files[:max(0, len(files) + 1 - limit)]:
        path.unlink(missing_ok=True)


@router.api_route("/episodes/{slug}/extrait.mp3", methods=["GET", "HEAD"], name="episode_extract",
                  response_class=FileResponse)
async def episode_extract(request: Request, slug: str, debut: str = "", fin: str = "") -> FileResponse:
    """A passage of at most two minutes as MP3, with HTTP Range support so players can seek in it."""
    state = request.app.state
    extract = await run_in_threadpool(plan_extract, state.archive, state.settings, slug, debut, fin)
    if not extract.cache.exists():
        await anyio.to_thread.run_sync(encode_extract, extract, limiter=_ENCODE_SLOTS)
    return FileResponse(extract.cache, media_type="audio/mpeg", filename=extract.filename,
                        content_disposition_type="inline")
