"""The podcast feed and the transcript files apps read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from archive.people import speaker_names
from feeds.chapters import to_chapters_json
from feeds.transcripts import to_html, to_json, to_srt, to_txt, to_vtt
from web.deps import get_session, require_episode

router = APIRouter()
SessionDep = Annotated[Session, Depends(get_session)]
OPEN_TO_ALL = {"Access-Control-Allow-Origin": "*"}


@router.api_route("/feed.xml", methods=["GET", "HEAD"], name="feed", response_class=Response)
async def feed(request: Request):
    """The podcast feed; apps polling it get 304 while nothing changed.

    Even the freshness check reads the database, so it runs in the thread pool: a blocking
    read on the event loop would stall every request when the connection pool is busy.
    """
    cache, database = request.app.state.feed_cache, request.app.state.archive.db
    built = await run_in_threadpool(_build, cache, database)
    headers = {"ETag": built.etag, "Last-Modified": built.last_modified_header, "Cache-Control": "no-cache"}
    if built.not_modified(request.headers.get("if-none-match"), request.headers.get("if-modified-since")):
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="application/rss+xml; charset=utf-8", headers=headers)


def _build(cache, database):
    with database.session() as session:
        return cache.get(session)


# The transcript formats apps read, by file extension: how to write it, and its type.
TRANSCRIPTS = {
    "vtt": (lambda episode, names: to_vtt(episode.utterances, names), "text/vtt; charset=utf-8"),
    "srt": (lambda episode, names: to_srt(episode.utterances, names), "application/x-subrip; charset=utf-8"),
    "json": (lambda episode, names: to_json(episode.utterances, names), "application/json"),
    "html": (lambda episode, names: to_html(episode.utterances, names, episode.title), "text/html; charset=utf-8"),
    "txt": (lambda episode, names: to_txt(episode.utterances, names, episode.title), "text/plain; charset=utf-8"),
}


@router.get("/episodes/{slug}/transcript.{extension}", name="transcript", response_class=Response)
def transcript(slug: str, extension: str, session: SessionDep):
    """An episode's transcript as WebVTT (with voices), SRT, Podcast Namespace JSON, HTML or plain text."""
    if extension not in TRANSCRIPTS:
        raise HTTPException(404, "Format de transcription inconnu.")
    write, media_type = TRANSCRIPTS[extension]
    episode = require_episode(session, slug)
    return Response(write(episode, speaker_names(episode)), media_type=media_type, headers=OPEN_TO_ALL)


@router.get("/episodes/{slug}/chapters.json", name="chapters_json", response_class=Response)
def chapters_json(slug: str, session: SessionDep):
    episode = require_episode(session, slug, with_transcript=False)
    return Response(to_chapters_json(episode.chapters), media_type="application/json+chapters",
                    headers=OPEN_TO_ALL)
