"""The podcast feed and the transcript files apps read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from archive.catalogue import list_episodes
from archive.people import speaker_names
from archive.settings import Settings
from feeds.chapters import to_chapters_json
from feeds.rss import build_feed
from feeds.transcripts import to_json, to_vtt
from web.deps import get_session, get_settings, require_episode

router = APIRouter()
SessionDep = Annotated[Session, Depends(get_session)]
OPEN_TO_ALL = {"Access-Control-Allow-Origin": "*"}


@router.get("/feed.xml", name="feed", response_class=Response)
def feed(session: SessionDep, settings: Annotated[Settings, Depends(get_settings)]):
    return Response(build_feed(settings, list_episodes(session)), media_type="application/rss+xml; charset=utf-8")


@router.get("/episodes/{slug}/transcript.vtt", name="transcript_vtt", response_class=Response)
def transcript_vtt(slug: str, session: SessionDep):
    episode = require_episode(session, slug)
    body = to_vtt(episode.utterances, speaker_names(episode))
    return Response(body, media_type="text/vtt; charset=utf-8", headers=OPEN_TO_ALL)


@router.get("/episodes/{slug}/transcript.json", name="transcript_json", response_class=Response)
def transcript_json(slug: str, session: SessionDep):
    episode = require_episode(session, slug)
    body = to_json(episode.utterances, speaker_names(episode))
    return Response(body, media_type="application/json", headers=OPEN_TO_ALL)


@router.get("/episodes/{slug}/chapters.json", name="chapters_json", response_class=Response)
def chapters_json(slug: str, session: SessionDep):
    episode = require_episode(session, slug, with_transcript=False)
    return Response(to_chapters_json(episode.chapters), media_type="application/json+chapters",
                    headers=OPEN_TO_ALL)
