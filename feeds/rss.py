"""The podcast feed: RSS 2.0 with iTunes and Podcast Namespace tags, built with feedgen.

It lists the episodes it is given (the caller chooses the live ones, see
archive.catalogue.feed_episodes) and says of each what Apple Podcasts and the Podcast
Namespace apps need: exact enclosure, permanent guid, people, four transcript formats,
chapters and a soundbite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable

import lxml.etree  # noqa: F401  (feedgen.util uses it without importing it)
from feedgen.ext.podcast import PodcastExtension
from feedgen.feed import FeedGenerator

from archive.catalogue import FeedEpisode, publication_time
from archive.models import Episode
from archive.settings import Settings
from archive.soundbites import soundbite
from feeds.podcast_ns import (
    PersonCredit,
    PodcastNamespaceEntryExtension,
    PodcastNamespaceExtension,
    SoundbiteTag,
    TranscriptLink,
)
from feeds.timefmt import hhmmss

# The Podcast Namespace's own namespace for podcast:guid (UUIDv5 of the feed URL).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
TRANSCRIPT_FORMATS = (("vtt", "text/vtt", "captions"), ("srt", "application/x-subrip", None),
                      ("json", "application/json", None), ("html", "text/html", None))


def episode_url(settings: Settings, episode: Episode | FeedEpisode, suffix: str = "") -> str:
    return f"{settings.public_base_url}/episodes/{episode.slug}{suffix}"


def audio_url(settings: Settings, episode: Episode | FeedEpisode) -> str:
    return episode_url(settings, episode, f"/audio.{episode.audio_ext}")


def feed_url(settings: Settings) -> str:
    return f"{settings.public_base_url}/feed.xml"


def podcast_guid(url: str) -> str:
    """The feed's permanent identity: UUIDv5 of its URL without scheme and trailing slash."""
    bare = url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def person_url(settings: Settings, slug: str) -> str:
    return f"{settings.public_base_url}/personnes/{slug}"


def _credits(settings: Settings, episode: FeedEpisode) -> list[PersonCredit]:
    return [PersonCredit(person.name, "host" if person.credit == "host" else "guest", person_url(settings, person.slug))
            for person in episode.people]


def _hosts(settings: Settings, episodes: list[FeedEpisode]) -> list[PersonCredit]:
    """The programme's hosts: whoever hosts its episodes, the most frequent first."""
    counts = Counter((person.name, person.slug) for episode in episodes for person in episode.people
                     if person.credit == "host")
    return [PersonCredit(name, "host", person_url(settings, slug)) for (name, slug), _ in counts.most_common()]


def _description(episode: FeedEpisode) -> str:
    text = episode.description or episode.title
    guests = [f"{person.name}, {person.role}" if person.role else person.name
              for person in episode.people if person.credit == "guest"]
    if guests:
        text += ("\n\n" if text else "") + ("Invités : " if len(guests) > 1 else "Invité : ") + " ; ".join(guests)
    return text


def build_feed(settings: Settings, episodes: Iterable[FeedEpisode], last_build: dt.datetime | None = None) -> bytes:
    """The feed's bytes. ``last_build`` is when the catalogue last changed: the same catalogue then gives the
    same bytes (and ETag) in every server process, where feedgen would write the current time."""
    base = settings.public_base_url
    episodes = sorted(episodes, key=lambda e: (e.date, e.id))
    fg = FeedGenerator()
    if last_build is not None:
        fg.lastBuildDate(last_build)
    # feedgen's iTunes extension for the channel only: the items' few iTunes tags are written by
    # ours, which keeps a thousand-episode feed well under half a second.
    fg.register_extension("podcast", PodcastExtension, None)
    fg.register_extension("podcastns", PodcastNamespaceExtension, PodcastNamespaceEntryExtension)
    fg.title(settings.programme_title)
    fg.description(settings.programme_tagline)
    # feedgen keeps the last link as the RSS <link>: the self link must come first.
    fg.link(href=feed_url(settings), rel="self")
    fg.link(href=f"{base}/", rel="alternate")
    fg.language("fr")
    fg.image(url=f"{base}/static/cover.png", title=settings.programme_title, link=f"{base}/")
    fg.podcast.itunes_author(settings.programme_author)
    fg.podcast.itunes_owner(name=settings.owner_name, email=settings.owner_email)
    fg.podcast.itunes_image(f"{base}/static/cover.png")
    fg.podcast.itunes_category(settings.itunes_category)
    fg.podcast.itunes_summary(settings.programme_tagline)
    fg.podcastns.explicit = False
    fg.podcastns.guid = podcast_guid(feed_url(settings))
    fg.podcastns.locked_owner = settings.owner_email
    fg.podcastns.people = _hosts(settings, episodes)

    # feedgen writes entries in reverse order of addition: add oldest first, newest ends on top.
    for episode in episodes:
        entry = fg.add_entry()
        entry.guid(episode.guid, permalink=False)
        entry.title(episode.title)
        entry.link(href=episode_url(settings, episode))
        entry.description(_description(episode))
        entry.pubDate(publication_time(episode))
        if episode.podcast_sha256:  # the MP3 made for apps, when the worker has made it
            entry.enclosure(episode_url(settings, episode, "/podcast.mp3"), str(episode.podcast_size), "audio/mpeg")
        else:
            entry.enclosure(audio_url(settings, episode), str(episode.audio_size), episode.audio_mime)
        entry.podcastns.duration = hhmmss(episode.duration)
        entry.podcastns.episode_number = episode.episode_number
        entry.podcastns.season = episode.season
        entry.podcastns.transcripts = [
            TranscriptLink(episode_url(settings, episode, f"/transcript.{suffix}"), mime, rel=rel)
            for suffix, mime, rel in TRANSCRIPT_FORMATS
        ]
        if episode.has_chapters:
            entry.podcastns.chapters_url = episode_url(settings, episode, "/chapters.json")
        entry.podcastns.people = _credits(settings, episode)
        if (bite := soundbite(episode)) is not None:
            entry.podcastns.soundbite = SoundbiteTag(bite.start, bite.duration, bite.title or episode.title)
    return fg.rss_str(pretty=False)
