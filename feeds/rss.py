"""The podcast feed: RSS 2.0 with iTunes and Podcast Namespace tags, built with feedgen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from feedgen.feed import FeedGenerator

from archive.models import Episode
from archive.settings import Settings
from feeds.podcast_ns import PodcastNamespaceEntryExtension, PodcastNamespaceExtension, TranscriptLink
from feeds.timefmt import hhmmss


def episode_url(settings: Settings, episode: Episode, suffix: str = "") -> str:
    return f"{settings.public_base_url}/episodes/{episode.slug}{suffix}"


def audio_url(settings: Settings, episode: Episode) -> str:
    return episode_url(settings, episode, f"/audio.{episode.audio_ext}")


def _publication_time(episode: Episode) -> dt.datetime:
    # Broadcast dates have no hour: publish at 08:00 Paris time, written in UTC.
    return dt.datetime.combine(episode.date, dt.time(7, 0), tzinfo=dt.UTC)


def _description(episode: Episode) -> str:
    text = episode.description or episode.title
    guests = [f"{link.person.name}, {link.person.role}" if link.person.role else link.person.name
              for link in episode.people if link.role == "guest"]
    if guests:
        text += ("\n\n" if text else "") + ("Invités : " if len(guests) > 1 else "Invité : ") + " ; ".join(guests)
    return text


def build_feed(settings: Settings, episodes: Iterable[Episode]) -> bytes:
    base = settings.public_base_url
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastns", PodcastNamespaceExtension, PodcastNamespaceEntryExtension)
    fg.title(settings.programme_title)
    fg.description(settings.programme_tagline)
    # feedgen keeps the last link as the RSS <link>: the self link must come first.
    fg.link(href=f"{base}/feed.xml", rel="self")
    fg.link(href=f"{base}/", rel="alternate")
    fg.language("fr")
    fg.image(url=f"{base}/static/cover.png", title=settings.programme_title, link=f"{base}/")
    fg.podcast.itunes_author(settings.programme_author)
    fg.podcast.itunes_owner(name=settings.owner_name, email=settings.owner_email)
    fg.podcast.itunes_image(f"{base}/static/cover.png")
    fg.podcast.itunes_category(settings.itunes_category)
    fg.podcast.itunes_summary(settings.programme_tagline)
    fg.podcastns.explicit = False

    # feedgen writes entries in reverse order of addition: add oldest first, newest ends on top.
    for episode in sorted(episodes, key=lambda e: (e.date, e.id)):
        entry = fg.add_entry()
        entry.id(f"urn:uuid:{episode.guid}")
        entry.guid(episode.guid, permalink=False)
        entry.title(episode.title)
        entry.link(href=episode_url(settings, episode))
        entry.description(_description(episode))
        entry.pubDate(_publication_time(episode))
        entry.enclosure(audio_url(settings, episode), str(episode.audio_size), episode.audio_mime)
        entry.podcast.itunes_duration(hhmmss(episode.duration))
        entry.podcastns.transcripts = [
            TranscriptLink(episode_url(settings, episode, "/transcript.vtt"), "text/vtt", rel="captions"),
            TranscriptLink(episode_url(settings, episode, "/transcript.json"), "application/json"),
        ]
        if episode.chapters:
            entry.podcastns.chapters_url = episode_url(settings, episode, "/chapters.json")
    return fg.rss_str(pretty=True)
